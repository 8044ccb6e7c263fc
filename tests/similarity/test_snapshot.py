"""Saving a fitted finder and mapping it back: same answers, shared read-only files."""

from __future__ import annotations

import hashlib
import json
import mmap
import stat
from pathlib import Path

import numpy as np
import pytest

from similarity import DuplicateFinder, snapshot
from similarity.semantic import DIMENSIONS, Embedder, MemoryStore
from tests.similarity.test_finder import PORTFOLIO


class HashEmbedder(Embedder):
    """Stands in for the sentence encoder: a fixed unit vector per text, at no cost."""

    def embed_texts(self, texts, batch: int = 64):
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            vector = np.random.default_rng(seed).standard_normal(DIMENSIONS).astype(np.float32)
            rows.append(vector / np.linalg.norm(vector))
        return np.array(rows, dtype=np.float32).reshape(len(texts), DIMENSIONS)


PROBES = [
    {"name": "Quản lý văn bản điều hành", "description": "Văn bản đến, văn bản đi, hồ sơ công việc"},
    {"name": "Cổng thông tin điện tử", "description": "Tin tức, văn kiện", "capabilities": ["portal"]},
    {"id": "nan", "name": "Phần mềm QLVB Tỉnh ủy Nghệ An", "description": "Quản lý văn bản đến"},
]
NEW = [
    {"id": "qni", "name": "Phần mềm quản lý văn bản Tỉnh ủy Quảng Ninh", "description": "Văn bản đến, đi."},
    {"id": "hue", "name": "Cổng thông tin Thành ủy Huế", "description": "Tin tức, tuyên truyền."},
]


def fitted() -> DuplicateFinder:
    embedder = HashEmbedder()
    return DuplicateFinder(semantic=embedder).fit(PORTFOLIO)


def answers(finder: DuplicateFinder) -> tuple[list, list]:
    queries = [finder.query(probe, k=5) for probe in PROBES]
    pairs = [(p["a"], p["b"], p["score"], p["reasons"]) for p in finder.pairs(min_score=0.0)]
    return queries, pairs


def saved(tmp_path: Path, finder: DuplicateFinder, **meta) -> Path:
    # Every array mapped, however small: the tests then cover each one's trip through a file.
    return snapshot.save(finder, tmp_path, meta=meta, mapped_from=0)


def file_digests(path: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.iterdir())}


def test_a_loaded_finder_answers_exactly_as_the_fitted_one(tmp_path):
    finder = fitted()
    saved(tmp_path, finder, watermark="2026-01-01T00:00:00+00:00")
    loaded = snapshot.load(tmp_path, embedder=HashEmbedder())
    assert loaded.meta == {"watermark": "2026-01-01T00:00:00+00:00"}
    assert answers(loaded.finder) == answers(finder)
    assert DuplicateFinder.load(tmp_path, embedder=HashEmbedder()).query(PROBES[0]) == finder.query(PROBES[0])


def test_large_arrays_are_mapped_from_read_only_files_not_read(tmp_path):
    path = saved(tmp_path, fitted())
    finder = snapshot.load(tmp_path, embedder=HashEmbedder()).finder
    matrix = finder.text_.matrix_
    by_term = finder._retrieval_by_term  # derived before saving, so not rebuilt by each process
    arrays = (matrix.data, matrix.indices, matrix.indptr, finder.active_, finder.semantic_.matrix)
    texts = finder.text_.texts_  # the prepared texts, as one mapped block
    assert isinstance(texts, snapshot.MappedTexts)
    for array in (*arrays, by_term.data, texts._blob):
        owner = array
        while isinstance(owner, np.ndarray):
            owner = owner.base
        assert isinstance(owner, mmap.mmap)  # a mapping of the file, not a copy in memory
    files = [p for p in path.iterdir() if p.suffix == ".npy"]
    assert files
    assert all(not p.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) for p in path.iterdir())


def test_updates_after_loading_work_and_never_write_into_the_files(tmp_path):
    reference = fitted()
    path = saved(tmp_path, reference)
    before = file_digests(path)
    loaded = snapshot.load(tmp_path, embedder=HashEmbedder()).finder
    for finder in (reference, loaded):
        finder.update(NEW)  # appends rows; "hue" replaces its row (a flag cleared in place)
        finder.remove(["portal"])
        finder.update([{**NEW[0], "description": "Văn bản đến, đi, hồ sơ công việc."}])
    assert answers(loaded) == answers(reference)
    assert "qni" in [m["id"] for m in loaded.query(PROBES[0], k=10)]
    assert "portal" not in [m["id"] for m in loaded.query(PROBES[1], k=10)]
    assert file_digests(path) == before
    # A second process mapping the same files still sees the finder as it was saved.
    again = snapshot.load(tmp_path, embedder=HashEmbedder()).finder
    assert answers(again) == answers(fitted())


def test_mapped_texts_read_as_the_list_they_replace():
    words = ["quản lý văn bản", "", "cổng thông tin", "hồ sơ"]
    texts = snapshot.MappedTexts.of(words)
    texts.extend(["ký số"])
    expected = [*words, "ký số"]
    assert list(texts) == expected and len(texts) == 5
    assert texts[np.int64(2)] == "cổng thông tin" and texts[-1] == "ký số" and texts[1:3] == expected[1:3]
    with pytest.raises(IndexError):
        texts[5]
    with pytest.raises(TypeError):
        texts[0] = "x"


def test_the_newest_build_is_current_and_old_ones_are_pruned(tmp_path):
    finder = fitted()
    paths = [saved(tmp_path, finder, build=n) for n in range(snapshot.KEEP + 2)]
    assert snapshot.current_path(tmp_path) == paths[-1]
    assert snapshot.load(tmp_path, embedder=HashEmbedder()).meta == {"build": snapshot.KEEP + 1}
    kept = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert kept == sorted(p.name for p in paths[-snapshot.KEEP :])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def _rewrite(path: Path, content: bytes) -> None:
    path.chmod(0o644)
    path.write_bytes(content)


def _rewrite_manifest(path: Path, change) -> None:
    manifest = path / snapshot.MANIFEST
    manifest.chmod(0o644)
    manifest.write_text(change(manifest.read_text(encoding="utf-8")), encoding="utf-8")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: _rewrite_manifest(p, lambda t: t.replace('"format": 1', '"format": 99')), "format 99"),
        (lambda p: _rewrite_manifest(p, lambda t: t[: len(t) // 2]), "cannot be read"),
        (lambda p: _rewrite_manifest(p, lambda t: json.dumps([])), "format None"),
        (
            lambda p: _rewrite_manifest(p, lambda t: t.replace('"scipy": "', '"scipy": "0.')),
            "snapshot written with",
        ),
        (lambda p: _rewrite(p / snapshot.STATE, b"junk"), "checksum"),
        (lambda p: next(p.glob("*.npy")).unlink(), "cannot be loaded"),
    ],
)
def test_an_unusable_snapshot_is_refused_with_its_reason(tmp_path, damage, message):
    damage(saved(tmp_path, fitted()))
    with pytest.raises(snapshot.SnapshotError, match=message):
        snapshot.load(tmp_path)


def test_an_empty_portfolio_saves_and_loads(tmp_path):
    empty = DuplicateFinder(semantic=HashEmbedder()).fit([])
    saved(tmp_path, empty)
    loaded = snapshot.load(tmp_path, embedder=HashEmbedder()).finder
    assert loaded.query(PROBES[0]) == [] and loaded.pairs() == []
    assert answers(loaded.update(NEW)) == answers(empty.update(NEW))


def test_no_snapshot_is_told_apart(tmp_path):
    with pytest.raises(snapshot.SnapshotMissing):
        snapshot.load(tmp_path / "nothing")


def test_a_caller_store_is_not_saved_and_must_be_supplied(tmp_path):
    store = MemoryStore()
    finder = DuplicateFinder(semantic=HashEmbedder(), vectors=store).fit(PORTFOLIO)
    saved(tmp_path, finder)
    with pytest.raises(snapshot.SnapshotError, match="pass vectors"):
        snapshot.load(tmp_path)
    loaded = snapshot.load(tmp_path, vectors=store, embedder=HashEmbedder()).finder
    assert loaded.store_ is store and loaded.vectors is store
    assert answers(loaded) == answers(finder)
