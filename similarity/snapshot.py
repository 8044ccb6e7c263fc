"""A fitted :class:`~similarity.DuplicateFinder` saved once and mapped by every process.

Fitting the index of 100,000 systems takes the better part of a minute and a gigabyte; several
web workers each fitting their own pay that many times over. A snapshot is fitted once and
written as a directory:

* every large array of the finder (the sparse matrices' ``data``/``indices``/``indptr``, the
  meaning vectors, the flags) as its own ``.npy`` file, which loading maps into memory instead
  of reading, so processes on one machine share a single copy through the page cache;
* everything else (vocabularies, records, the dependency graph) in one pickle, which holds
  references to those files rather than their contents;
* ``manifest.json``: the format version, library versions, the pickle's checksum and the
  caller's metadata (the registry keeps the database watermark the finder was fitted at).

The files are mapped copy-on-write (``mmap_mode="c"``) from files opened read-only and left
read-only on disk: the finder keeps changing after loading (updates append rows, removals
clear flags, vectors arriving fill rows), and a page it writes becomes that process's own
while the file and the other processes' pages stay as they were.

A build is written into a temporary directory, renamed into place, then named in ``CURRENT``
(replaced atomically): a reader sees the previous complete snapshot or the next, never half.

Examples
--------
>>> import tempfile
>>> from similarity import DuplicateFinder
>>> finder = DuplicateFinder(semantic=None).fit([
...     {"id": 1, "name": "Quản lý văn bản tỉnh Nghệ An", "description": "Văn bản đến, đi"},
...     {"id": 2, "name": "Phần mềm quản lý văn bản tỉnh Huế", "description": "Văn bản đến và đi"},
... ])
>>> root = tempfile.mkdtemp()
>>> _ = save(finder, root, meta={"built_for": "doctest"})
>>> loaded = load(root)
>>> loaded.meta["built_for"], [m["id"] for m in loaded.finder.query({"name": "Quản lý văn bản"}, k=2)]
('doctest', [1, 2])
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import operator
import os
import pickle
import shutil
import uuid
from collections.abc import Iterator, Mapping, MutableSequence, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, overload

import numpy as np
import scipy
import sklearn

from similarity.knowledge import default_knowledge
from similarity.lexicon import default_lexicon
from similarity.semantic import Embedder, VectorStore, default_embedder

__all__ = [
    "FORMAT_VERSION",
    "MappedTexts",
    "Snapshot",
    "SnapshotError",
    "SnapshotMissing",
    "current_path",
    "load",
    "read_manifest",
    "save",
]

FORMAT_VERSION = 1
"""Raised whenever the layout or the meaning of a saved piece changes: older snapshots are then
refused (and refitted) rather than misread."""
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
STATE = "state.pickle"
MAPPED_FROM_BYTES = 64 * 1024
"""Arrays at least this large go to their own mapped file; smaller ones stay in the pickle,
where a file each would cost more to open than they weigh."""
KEEP = 2
"""Complete snapshots kept: the newest, and the one before for a process still loading it."""


class SnapshotError(Exception):
    """The snapshot cannot be used (another format, other library versions, damaged files)."""


class SnapshotMissing(SnapshotError):
    """No snapshot has been built in this directory yet."""


@dataclass(frozen=True)
class Snapshot:
    finder: Any
    """The loaded :class:`~similarity.DuplicateFinder`."""
    meta: dict[str, Any]
    """What the caller saved with it (e.g. the database watermark)."""
    path: Path
    """The snapshot's own directory."""
    created_at: str


def _libraries() -> dict[str, str]:
    """Versions whose pickled objects (vectorizers, matrices) another version may misread."""
    return {"numpy": np.__version__, "scipy": scipy.__version__, "scikit-learn": sklearn.__version__}


# --- saving ------------------------------------------------------------------------------------


def _root(array: np.ndarray) -> np.ndarray:
    """The array that owns the memory ``array`` views (itself when it owns it)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


class MappedTexts(MutableSequence[str]):
    """The finder's prepared texts as one UTF-8 block and its offsets, both mapped.

    At 100,000 systems the texts are 70 MB of Python strings in every process; mapped, they
    are shared, and each is decoded only when a reason is built from it (the few pairs
    shown). Texts added afterwards (updates) are kept as strings after the mapped ones.
    """

    def __init__(self, blob: np.ndarray, offsets: np.ndarray, more: list[str] | None = None):
        self._blob = blob
        self._offsets = offsets
        self._more = list(more or ())

    @classmethod
    def of(cls, texts: Sequence[str]) -> MappedTexts:
        encoded = [text.encode("utf-8") for text in texts]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        return cls(np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets)

    def __reduce__(self) -> tuple[Any, ...]:
        return MappedTexts, (self._blob, self._offsets, self._more)

    def __len__(self) -> int:
        return self._offsets.size - 1 + len(self._more)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        position = operator.index(index)
        if position < 0:
            position += len(self)
        mapped = self._offsets.size - 1
        if 0 <= position < mapped:
            start, end = int(self._offsets[position]), int(self._offsets[position + 1])
            return self._blob[start:end].tobytes().decode("utf-8")
        if mapped <= position < len(self):
            return self._more[position - mapped]
        raise IndexError(index)

    def __setitem__(self, index: Any, value: Any) -> None:
        raise TypeError("the prepared texts are only appended to")

    def __delitem__(self, index: Any) -> None:
        raise TypeError("the prepared texts are only appended to")

    def insert(self, index: int, value: str) -> None:
        if index != len(self):
            raise TypeError("the prepared texts are only appended to")
        self._more.append(value)


class _Pickler(pickle.Pickler):
    """Pickles the finder with its large arrays written beside it, each memory block once.

    Views (a growing matrix is a view over arrays with spare room) are saved as their owner's
    file plus an offset, so the matrix and its growing storage stay one block after loading.
    The vector store and the encoder are the caller's live objects and the packaged thesaurus
    and lexicon are shared: they are named, not copied, and supplied again on loading.
    """

    def __init__(self, file: io.BufferedWriter, directory: Path, finder: Any, mapped_from: int):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.directory = directory
        self.mapped_from = mapped_from
        self.store = finder.vectors  # a store of the caller's (a database table), not one of its own
        self.files: dict[int, tuple[np.ndarray, str]] = {}
        self.texts: Any = getattr(getattr(finder, "text_", None), "texts_", None)
        self.shared = {id(default_knowledge()): "knowledge", id(default_lexicon()): "lexicon"}

    def persistent_id(self, obj: Any) -> Any:
        if obj is self.texts and self.texts is not None:
            texts = obj if isinstance(obj, MappedTexts) else MappedTexts.of(obj)
            blob, offsets, more = texts.__reduce__()[1]
            return ("texts", self._array(blob), self._array(offsets), more)
        if self.store is not None and obj is self.store:
            return ("store",)
        if isinstance(obj, Embedder):
            return ("embedder",)
        name = self.shared.get(id(obj))
        if name is not None:
            return (name,)
        if not isinstance(obj, np.ndarray) or obj.dtype.hasobject:
            return None
        return self._mapped(obj)

    def _array(self, array: np.ndarray) -> Any:
        return self._mapped(array) or ("inline", array)

    def _mapped(self, obj: np.ndarray) -> Any:
        root = _root(obj)
        if root.nbytes < self.mapped_from or root.size == 0:  # an empty file cannot be mapped
            return None
        offset = obj.__array_interface__["data"][0] - root.__array_interface__["data"][0]
        strides = obj.strides
        if not root.flags.c_contiguous or offset < 0 or any(s < 0 for s in strides):
            root = np.ascontiguousarray(obj)  # an unusual view: saved as a copy of its own
            offset, strides = 0, root.strides
        known = self.files.get(id(root))
        if known is None:
            file = f"array-{len(self.files):04d}.npy"
            np.save(self.directory / file, root, allow_pickle=False)
            known = self.files[id(root)] = (root, file)  # holding the root keeps its id unique
        return ("array", known[1], obj.dtype.str, obj.shape, strides, offset)


def save(
    finder: Any,
    root: str | os.PathLike[str],
    *,
    meta: Mapping[str, Any] | None = None,
    mapped_from: int = MAPPED_FROM_BYTES,
) -> Path:
    """Write ``finder`` as the newest snapshot under ``root``; returns its directory.

    Arrays of ``mapped_from`` bytes or more are written to files to be mapped (tests map all).

    ``meta`` must be JSON-serialisable; :func:`load` gives it back. Older snapshots beyond the
    last :data:`KEEP` are deleted (a process that mapped one keeps its pages until it exits).
    """
    finder._check_fitted()
    _derive_shared_copies(finder)
    base = Path(root)
    base.mkdir(parents=True, exist_ok=True)
    created = datetime.now(UTC)
    name = f"snapshot-{created:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"
    temporary = base / f".{name}.tmp"
    temporary.mkdir()
    try:
        with open(temporary / STATE, "wb") as file:
            pickler = _Pickler(file, temporary, finder, mapped_from)
            pickler.dump(finder)
        manifest = {
            "format": FORMAT_VERSION,
            "created_at": created.isoformat(),
            "libraries": _libraries(),
            "state": STATE,
            "state_sha256": _sha256(temporary / STATE),
            "arrays": sorted(file for _root, file in pickler.files.values()),
            "meta": dict(meta or {}),
        }
        (temporary / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        for path in temporary.iterdir():
            path.chmod(0o444)  # mapped by every worker: nothing may write into them
        os.replace(temporary, base / name)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    pointer = base / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
    pointer.write_text(name + "\n", encoding="utf-8")
    os.replace(pointer, base / CURRENT)
    _prune(base, name)
    return base / name


def _derive_shared_copies(finder: Any) -> None:
    """Make the copies a finder derives at its first query, so that they are saved too.

    Every process would otherwise derive its own on its first query (the retrieval index by
    term is 40 MB and a tenth of a second at 100,000 systems); saved, they are mapped and
    shared like the rest.
    """
    if getattr(finder, "_retrieval_by_term", False) is None:
        finder._retrieval_by_term = finder.retrieval_.tocsc()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _prune(base: Path, newest: str) -> None:
    builds = sorted(p for p in base.iterdir() if p.is_dir() and p.name.startswith("snapshot-"))
    for old in builds[:-KEEP]:
        if old.name != newest:
            shutil.rmtree(old, ignore_errors=True)


# --- loading -----------------------------------------------------------------------------------


def current_path(root: str | os.PathLike[str]) -> Path:
    """The directory of the newest complete snapshot under ``root``."""
    pointer = Path(root) / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError as exc:
        raise SnapshotMissing(f"no snapshot in {root}") from exc
    if not name or "/" in name or name.startswith("."):
        raise SnapshotError(f"{pointer} names no snapshot")
    return Path(root) / name


def read_manifest(path: Path) -> dict[str, Any]:
    """A snapshot's manifest, checked to be one this version can load."""
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SnapshotError(f"{path / MANIFEST} cannot be read: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise SnapshotError(f"snapshot format {found!r}, this version reads format {FORMAT_VERSION}")
    if manifest.get("libraries") != _libraries():
        raise SnapshotError(f"snapshot written with {manifest.get('libraries')}, running {_libraries()}")
    return manifest


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BufferedReader, directory: Path, arrays: set[str], shared: Mapping[str, Any]):
        super().__init__(file)
        self.directory = directory
        self.arrays = arrays
        self.shared = shared
        self.mapped: dict[str, np.ndarray] = {}

    def persistent_load(self, pid: Any) -> Any:
        kind = pid[0]
        if kind in self.shared:
            return self.shared[kind]
        if kind == "inline":
            return pid[1]
        if kind == "texts":
            return MappedTexts(self.persistent_load(pid[1]), self.persistent_load(pid[2]), pid[3])
        if kind != "array":
            raise SnapshotError(f"unknown reference {kind!r} in the snapshot")
        _kind, file, dtype, shape, strides, offset = pid
        if file not in self.arrays:
            raise SnapshotError(f"the snapshot refers to {file}, which its manifest does not list")
        block = self.mapped.get(file)
        if block is None:
            # Copy-on-write: pages stay shared with the file until this process writes one.
            block = self.mapped[file] = np.load(self.directory / file, mmap_mode="c", allow_pickle=False)
        # A plain ndarray over the mapping: compiled kernels take it like any other array.
        return np.ndarray(shape, dtype=np.dtype(dtype), buffer=block, offset=offset, strides=strides)


@contextmanager
def _collection_paused() -> Iterator[None]:
    """The cyclic garbage collector off while unpickling: the hundreds of thousands of objects
    it creates would trigger a collection every few hundred, each walking all of them again
    (half the load time). Nothing unpickled is garbage, so nothing is left uncollected."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load(
    root: str | os.PathLike[str],
    *,
    vectors: VectorStore | None = None,
    embedder: Embedder | None = None,
) -> Snapshot:
    """Map the newest snapshot under ``root`` and return its finder, ready to query and update.

    ``vectors`` replaces the store the finder was fitted with (the registry's is a database
    table, which is not saved); ``embedder`` the sentence encoder (the packaged one by
    default, when the finder had one). Raises :class:`SnapshotMissing` when there is none, and
    :class:`SnapshotError` when it cannot be used: the caller then fits instead.
    """
    path = current_path(root)
    manifest = read_manifest(path)
    state = path / str(manifest.get("state", STATE))
    try:
        if _sha256(state) != manifest.get("state_sha256"):
            raise SnapshotError(f"{state} does not match its checksum")
        shared = {
            "store": vectors,
            "embedder": embedder,
            "knowledge": default_knowledge(),
            "lexicon": default_lexicon(),
        }
        with open(state, "rb") as file, _collection_paused():
            finder = _Unpickler(file, path, set(manifest.get("arrays", ())), shared).load()
    except SnapshotError:
        raise
    except Exception as exc:  # a damaged file fails in many ways; each means "fit instead"
        raise SnapshotError(f"{path} cannot be loaded: {type(exc).__name__}: {exc}") from exc
    if getattr(finder, "store_", None) is None:
        raise SnapshotError(f"{path} was saved with a vector store of the caller's: pass vectors=")
    if getattr(finder, "embedder_", None) is None and finder.semantic == "auto" and embedder is None:
        finder.embedder_ = default_embedder()
    return Snapshot(finder, dict(manifest.get("meta") or {}), path, str(manifest.get("created_at", "")))
