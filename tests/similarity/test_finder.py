import json
import subprocess
import sys
import time

import numpy as np
import pytest
import scipy.sparse as sp

from similarity import DuplicateFinder, NotFittedError, RecordError, features
from similarity.__main__ import main

PORTFOLIO = [
    {
        "id": "platform",
        "name": "Hệ thống quản lý văn bản và điều hành của các cơ quan Đảng",
        "description": "Nền tảng dùng chung: văn bản đến, văn bản đi, hồ sơ công việc, ký số.",
        "capabilities": ["document_management", "e_signature"],
        "level": "central",
        "is_shared_platform": True,
        "depends_on": ["network"],
    },
    {
        "id": "nan",
        "name": "Phần mềm QLVB Tỉnh ủy Nghệ An",
        "description": "Quản lý văn bản đến, văn bản đi và hồ sơ công việc của Tỉnh ủy.",
        "capabilities": ["document_management"],
        "level": "province",
        "depends_on": ["network"],
    },
    {
        "id": "hue",
        "name": "He thong quan ly van ban Thanh uy Hue",
        "description": "Van ban den, van ban di, ho so cong viec",
        "capabilities": ["document_management"],
        "level": "province",
        "depends_on": ["network"],
    },
    {
        "id": "gli",
        "name": "Hệ thống điều hành tác nghiệp – phân hệ Tỉnh ủy Gia Lai",
        "description": "Triển khai nền tảng quản lý văn bản dùng chung cho Tỉnh ủy Gia Lai.",
        "capabilities": ["document_management"],
        "level": "province",
        "instance_of": "platform",
    },
    {
        "id": "dlk",
        "name": "Hệ thống điều hành tác nghiệp – phân hệ Tỉnh ủy Đắk Lắk",
        "description": "Triển khai nền tảng quản lý văn bản dùng chung cho Tỉnh ủy Đắk Lắk.",
        "capabilities": ["document_management"],
        "level": "province",
        "instance_of": "platform",
    },
    {
        "id": "portal",
        "name": "Cổng thông tin điện tử Đảng bộ tỉnh Quảng Ninh",
        "description": "Tin tức, tuyên truyền, văn kiện.",
        "capabilities": ["portal"],
        "level": "province",
    },
    {
        "id": "vc",
        "name": "Hệ thống hội nghị truyền hình trực tuyến",
        "description": "Họp trực tuyến giữa Trung ương và các tỉnh.",
        "capabilities": ["videoconference"],
        "level": "central",
        "is_shared_platform": True,
    },
    {
        "id": "network",
        "name": "Mạng máy tính chuyên dùng",
        "description": "Mạng diện rộng của các cơ quan Đảng.",
    },
]


@pytest.fixture(scope="module")
def finder():
    return DuplicateFinder().fit(PORTFOLIO)


def ids(matches, key="id"):
    return [m[key] for m in matches]


def test_query_finds_the_same_job_worded_differently(finder):
    matches = finder.query({"name": "Phần mềm quản lý văn bản đi đến", "description": "hồ sơ công việc"}, k=4)
    assert set(ids(matches)[:3]) <= {"platform", "nan", "hue", "gli", "dlk"}
    assert "portal" not in ids(matches)[:3]
    assert all(0.0 <= m["score"] <= 1.0 for m in matches)
    assert matches == sorted(matches, key=lambda m: -m["score"])


def test_query_excludes_the_record_itself_and_explains(finder):
    matches = finder.query(PORTFOLIO[1], k=4)
    assert "nan" not in ids(matches)
    hue = next(m for m in matches if m["id"] == "hue")  # typed without tone marks
    codes = {reason["code"] for reason in hue["reasons"]}
    # "QLVB" and "quan ly van ban" meet through the thesaurus: the reason says so, rather than
    # calling the two names (which share little as typed) similar.
    assert {"same_function", "shared_capabilities", "similar_dependencies", "same_level"} <= codes
    assert "similar_names" not in codes
    assert all(reason["message"] for reason in hue["reasons"])
    platform = next(m for m in matches if m["id"] == "platform")
    shared = next(r for r in platform["reasons"] if r["code"] == "shared_terms")
    assert any("văn bản" in term for term in shared["terms"]) and "lý văn" not in shared["terms"]


def test_overlapping_deployments_fold_into_their_platform(finder):
    """A province's own document system gets one warning (reuse the platform), not one per deployment."""
    matches = finder.query(PORTFOLIO[1], k=10)
    assert not {"gli", "dlk"} & set(ids(matches))
    platform = next(m for m in matches if m["id"] == "platform")
    # The platform is found directly or through its deployments; either way it is one match.
    if "via_deployments" in platform:
        assert platform["reasons"][-1] == {
            "code": "via_deployments",
            "count": platform["via_deployments"],
            "message": f"Found through {platform['via_deployments']} deployment"
            + ("" if platform["via_deployments"] == 1 else "s")
            + " of the platform",
        }
    assert "duplicates_central_platform" in {r["code"] for r in platform["reasons"]}
    pairs = finder.pairs(min_score=0.0)
    assert not any({"gli", "dlk"} & {p["a"], p["b"]} for p in pairs)
    assert len([p for p in pairs if {p["a"], p["b"]} == {"nan", "platform"}]) == 1


def test_deployments_of_one_platform_are_reuse_not_overlap(finder):
    pairs = finder.pairs(min_score=0.0, include_reuse=True)
    relation = {frozenset((p["a"], p["b"])): p["relation"] for p in pairs}
    assert relation[frozenset(("gli", "dlk"))] == "reuse"
    assert relation.get(frozenset(("gli", "platform")), "reuse") == "reuse"
    assert all(p["relation"] == "overlap" for p in finder.pairs(min_score=0.0))


def test_a_local_copy_of_a_central_platform_is_called_out(finder):
    pair = next(p for p in finder.pairs(min_score=0.0) if {p["a"], p["b"]} == {"platform", "nan"})
    codes = [reason["code"] for reason in pair["reasons"]]
    assert "duplicates_central_platform" in codes


def test_pairs_are_best_first_above_the_threshold(finder):
    pairs = finder.pairs(min_score=0.5)
    assert pairs, "the two provincial document systems must be found"
    assert pairs == sorted(pairs, key=lambda p: -p["score"])
    assert all(p["score"] >= 0.5 for p in pairs)
    assert {frozenset((p["a"], p["b"])) for p in pairs} >= {frozenset(("nan", "hue"))}
    assert not any({"portal", "vc"} & {p["a"], p["b"]} for p in pairs)


def test_k_keeps_only_each_systems_best_partners():
    clones = [
        {
            "id": i,
            "name": f"Ứng dụng phản ánh hiện trường xã {i}",
            "description": "Tiếp nhận phản ánh của người dân",
        }
        for i in range(40)
    ]
    finder = DuplicateFinder(candidates=40).fit(clones)
    everything = finder.pairs(min_score=0.0)
    limited = finder.pairs(min_score=0.0, k=2)
    assert len(everything) > 300
    assert len(limited) <= 40 * 2
    partners: dict[int, int] = {}
    for p in limited:
        partners[p["a"]] = partners.get(p["a"], 0) + 1
        partners[p["b"]] = partners.get(p["b"], 0) + 1
    assert min(partners.values()) >= 1


def test_clusters_group_the_same_thing_built_many_times(finder):
    clusters = finder.clusters(min_score=0.5)
    assert any({"nan", "hue"} <= cluster for cluster in clusters)


def test_missing_optional_fields_do_not_lower_the_score():
    base = {"name": "Hệ thống quản lý văn bản", "description": "Văn bản đến, văn bản đi"}
    bare = DuplicateFinder().fit([{"id": 1, **base}, {"id": 2, **base}])
    rich = DuplicateFinder().fit(
        [{"id": 1, **base, "capabilities": ["docs"]}, {"id": 2, **base, "data_domains": ["documents"]}]
    )
    assert bare.pairs(min_score=0.0)[0]["score"] == rich.pairs(min_score=0.0)[0]["score"]
    assert bare.pairs(min_score=0.0)[0]["components"]["capabilities"] is None


def test_isolated_systems(finder):
    assert finder.isolated() == set()
    lonely = DuplicateFinder().fit([{"id": 1, "name": "A", "depends_on": []}, {"id": 2, "name": "B"}])
    assert lonely.isolated() == {1}


# --- bad input -------------------------------------------------------------------------------


def test_query_before_fit_is_a_clear_error():
    with pytest.raises(NotFittedError):
        DuplicateFinder().query({"name": "x"})


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([{"id": 1, "name": "a"}, {"id": 1, "name": "b"}], "used by an earlier record"),
        ([{"name": "no id"}], "'id' is required"),
        ([{"id": 1, "name": 42}], "'name' must be text"),
        ([{"id": 1, "capabilities": {"a": 1}}], "'capabilities' must be a list"),
        (["not a mapping"], "expected a mapping"),
    ],
)
def test_bad_records_are_refused_with_the_record_named(records, message):
    with pytest.raises(RecordError, match=message):
        DuplicateFinder().fit(records)


def test_empty_and_whitespace_text_scores_zero_rather_than_failing():
    finder = DuplicateFinder().fit(
        [{"id": 1, "name": "   "}, {"id": 2, "name": ""}, {"id": 3, "name": "Cổng"}]
    )
    assert finder.query({"name": " "}) == []
    assert all(p["score"] < 0.5 for p in finder.pairs(min_score=0.0))


def test_a_record_with_only_a_name_works():
    finder = DuplicateFinder().fit(
        [{"id": 1, "name": "Hệ thống hội nghị truyền hình"}, {"id": 2, "name": "HNTH"}]
    )
    assert finder.query({"name": "Hội nghị truyền hình trực tuyến"})[0]["id"] in {1, 2}


def test_a_one_megabyte_description_neither_crashes_nor_hangs():
    huge = "quản lý văn bản đến " * 60_000
    started = time.perf_counter()
    finder = DuplicateFinder().fit(
        [{"id": 1, "name": "QLVB", "description": huge}, {"id": 2, "name": "Cổng"}]
    )
    finder.query({"name": "Quản lý văn bản", "description": huge})
    assert time.perf_counter() - started < 60  # a hang guard, not a performance target


# --- command line ----------------------------------------------------------------------------


@pytest.fixture
def records_file(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in PORTFOLIO) + "\n", encoding="utf-8")
    return path


def _run(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines() if line.strip()]
    return code, lines, captured.err


def test_cli_pairs(records_file, capsys):
    code, lines, _ = _run(["pairs", str(records_file), "--min-score", "0.5", "-k", "3"], capsys)
    assert code == 0
    assert lines and set(lines[0]) >= {"a", "b", "score", "reasons"}
    assert [line["score"] for line in lines] == sorted((line["score"] for line in lines), reverse=True)


def test_cli_query(records_file, capsys):
    code, lines, _ = _run(
        ["query", str(records_file), "--name", "Quản lý văn bản", "--description", "văn bản đi", "-k", "2"],
        capsys,
    )
    assert code == 0 and len(lines) == 2 and "reasons" in lines[0]


def test_cli_reports_non_utf8_input(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"id": 1, "name": "ok"}\n{"id": 2, "name": "H\xe9 th\xf4ng"}\n')
    code, _, err = _run(["pairs", str(path)], capsys)
    assert code == 2 and "line 2 is not UTF-8" in err


def test_cli_reports_bad_json_and_duplicate_ids(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": 1, "name": "a"}\n{"id": 1, "name": "b"}\n', encoding="utf-8")
    code, _, err = _run(["pairs", str(path)], capsys)
    assert code == 2 and "used by an earlier record" in err
    path.write_text('{"id": 1, "name": "a"}\n{oops\n', encoding="utf-8")
    code, _, err = _run(["pairs", str(path)], capsys)
    assert code == 2 and "line 2 is not valid JSON" in err


def test_cli_runs_as_a_module(records_file):
    result = subprocess.run(
        [sys.executable, "-m", "similarity", "clusters", str(records_file)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout.splitlines()[0])["size"] >= 2


# --- incremental updates ---------------------------------------------------------------------


def test_update_adds_and_replaces_without_refitting():
    finder = DuplicateFinder().fit(PORTFOLIO)
    vocabulary = finder.text_.vectorizers_["word"].vocabulary_
    finder.update([{"id": "new", "name": "Phần mềm quản lý văn bản Tỉnh ủy Cà Mau", "level": "province"}])
    assert finder.text_.vectorizers_["word"].vocabulary_ is vocabulary
    assert "new" in ids(finder.query({"name": "Quản lý văn bản đến"}, k=6))

    finder.update([{"id": "new", "name": "Cổng thông tin điện tử Cà Mau", "description": "Tin tức"}])
    documents = {m["id"]: m["score"] for m in finder.query({"name": "Quản lý văn bản đến"}, k=20)}
    assert documents.get("new", 0.0) < 0.5  # only the edited version is left
    assert "new" in ids(finder.query({"name": "Cổng thông tin điện tử"}, k=3))
    pairs = finder.pairs(min_score=0.0)
    assert sum(1 for p in pairs if "new" in (p["a"], p["b"]) and "portal" in (p["a"], p["b"])) == 1


def test_update_appends_in_place_and_keeps_the_query_index():
    finder = DuplicateFinder().fit(PORTFOLIO)
    finder.query({"name": "Quản lý văn bản"})  # builds the per-term index
    by_term, word = finder._retrieval_by_term, finder.text_.blocks_["word"]
    finder.update([{"id": "new", "name": "Phần mềm quản lý văn bản Tỉnh ủy Cà Mau"}])
    # The new row went into spare room: the fitted rows were not copied, nor re-indexed.
    assert np.shares_memory(finder.text_.blocks_["word"].data, word.data)
    assert finder._retrieval_by_term is by_term
    assert "new" in ids(finder.query({"name": "Quản lý văn bản đến"}, k=6))
    fresh = DuplicateFinder().fit(PORTFOLIO)
    fresh.update([{"id": "new", "name": "Phần mềm quản lý văn bản Tỉnh ủy Cà Mau"}])
    fresh._retrieval_by_term = None  # rebuilt over every row
    probe = {"name": "Quản lý văn bản đến"}
    assert finder.query(probe, k=6) == fresh.query(probe, k=6)


def test_growing_rows_equal_stacked_rows():
    rng = np.random.default_rng(0)
    first = sp.random(30, 12, density=0.3, format="csr", random_state=rng, dtype=np.float32)
    growing = features.GrowingRows(first)
    stacked = first
    for count in (1, 5, 40, 2):  # the last ones outgrow the spare room
        rows = sp.random(count, 12, density=0.3, format="csr", random_state=rng, dtype=np.float32)
        grown = growing.append(rows)
        stacked = sp.vstack([stacked, rows], format="csr")
        assert grown.shape == stacked.shape
        assert (grown != stacked).nnz == 0


def test_set_matrices_grow_in_place_and_equal_stacked_ones():
    rng = np.random.default_rng(1)
    vocabulary = {f"c{i}": i for i in range(6)}
    weights = rng.random(6) + 0.5

    def some_sets(count: int) -> list[frozenset[str] | None]:
        return [
            frozenset(rng.choice(list(vocabulary) + ["unknown"], 2)) if i % 3 else None for i in range(count)
        ]

    first = some_sets(20)
    growing = features.SetMatrix.build(first, vocabulary, weights)
    fitted = growing.weighted.data
    everything = list(first)
    for count in (1, 3, 30):  # the last one outgrows the spare room
        added = some_sets(count)
        assert growing.append(features.SetMatrix.build(added, vocabulary, weights)) is growing
        everything += added
        if count == 1:  # written into spare room, not into a copy of the fitted rows
            assert np.shares_memory(growing.weighted.data, fitted)
    built = features.SetMatrix.build(everything, vocabulary, weights)
    for name in ("weighted", "binary"):
        assert (getattr(growing, name) != getattr(built, name)).nnz == 0
    np.testing.assert_array_equal(growing.weight_sum, built.weight_sum)
    np.testing.assert_array_equal(growing.declared, built.declared)


def test_column_lookup_answers_for_rows_appended_after_its_copy():
    rng = np.random.default_rng(2)
    growing = features.GrowingRows(sp.random(40, 9, density=0.2, format="csr", random_state=rng))
    lookup = features.ColumnLookup(recent=5)
    for count in (0, 2, 3, 4, 1):  # 2 + 3 stay within ``recent``; the 4 make it rebuild its copy
        matrix = growing.append(sp.random(count, 9, density=0.3, format="csr", random_state=rng))
        for columns in ([0], [3, 7], [8]):
            expected = np.unique(sp.csc_matrix(matrix)[:, columns].nonzero()[0])
            np.testing.assert_array_equal(lookup.rows(matrix, columns), expected)


def test_a_saved_system_does_not_copy_the_portfolio_structure():
    finder = DuplicateFinder().fit(PORTFOLIO)
    capabilities = finder._sets["capabilities"]
    finder.query(
        {"name": "Quản lý văn bản", "capabilities": ["document_management"]}
    )  # builds the lookup copy
    copy = finder._capability_lookup._by_column
    finder.update(
        [{"id": "new", "name": "Phần mềm quản lý văn bản", "capabilities": ["document_management"]}]
    )
    assert finder._sets["capabilities"] is capabilities  # grown in place
    assert "new" in ids(finder.query({"name": "Hệ thống mới", "capabilities": ["document_management"]}, k=20))
    assert finder._capability_lookup._by_column is copy  # the new row was scanned, not re-indexed


def test_updating_an_unchanged_record_costs_nothing():
    finder = DuplicateFinder().fit(PORTFOLIO)
    matrix, rows = finder.text_.matrix_, len(finder.records_)
    finder.update([dict(PORTFOLIO[0], status="submitted")])  # a status change, same content
    assert finder.text_.matrix_ is matrix and len(finder.records_) == rows
    finder.update([dict(PORTFOLIO[0], description="Một mô tả khác hẳn")])
    assert len(finder.records_) == rows + 1


def test_remove_forgets_a_system():
    finder = DuplicateFinder().fit(PORTFOLIO).remove(["hue"])
    assert "hue" not in ids(finder.query({"name": "quan ly van ban"}, k=8))
    assert all("hue" not in (p["a"], p["b"]) for p in finder.pairs(min_score=0.0))


def test_progress_is_reported_while_scanning():
    calls: list[tuple[int, int]] = []
    DuplicateFinder(batch_size=3).fit(PORTFOLIO).pairs(
        progress=lambda done, total: calls.append((done, total))
    )
    assert calls[-1] == (len(PORTFOLIO), len(PORTFOLIO)) and len(calls) == 3


def test_the_finder_is_a_scikit_learn_estimator():
    """Its parameters round-trip through get_params/clone, and an unfitted finder says so as
    scikit-learn's own estimators do."""
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    finder = DuplicateFinder(candidates=12, retrieval_terms=20)
    assert finder.get_params()["candidates"] == 12
    copy = clone(finder)
    assert copy is not finder and copy.get_params() == finder.get_params()
    with pytest.raises(SklearnNotFittedError):
        copy.pairs(min_score=0.5)
    assert NotFittedError is SklearnNotFittedError


# --- small portfolios ------------------------------------------------------------------------

_COPY = {
    "name": "Hệ thống quản lý văn bản và điều hành Thành ủy Hà Nội",
    "description": "Quản lý văn bản đến, văn bản đi, hồ sơ công việc và điều hành tác nghiệp.",
}
_NEAR = {
    "name": "Phần mềm QLVB và điều hành Tỉnh ủy Thừa Thiên Huế",
    "description": "Văn bản đến, văn bản đi, hồ sơ công việc của các cơ quan Tỉnh ủy.",
}
_UNRELATED = {
    "name": "Hệ thống giám sát an toàn thông tin mạng",
    "description": "Thu thập nhật ký, phát hiện tấn công và cảnh báo sự cố an ninh mạng.",
}
_FILLER = [
    ("Cổng thông tin điện tử Đảng bộ tỉnh", "Tin tức, tuyên truyền, văn kiện của Đảng bộ."),
    ("Phần mềm quản lý tài sản công", "Theo dõi tài sản, khấu hao, điều chuyển tài sản công."),
    ("Hệ thống hội nghị truyền hình", "Họp trực tuyến giữa Trung ương và các tỉnh."),
    ("Phần mềm kế toán hành chính sự nghiệp", "Sổ sách kế toán, báo cáo tài chính của đơn vị."),
    ("Hệ thống thư điện tử công vụ", "Hộp thư điện tử cho cán bộ, công chức."),
    ("Cơ sở dữ liệu đất đai", "Bản đồ địa chính, hồ sơ thửa đất, biến động đất đai."),
    ("Phần mềm thi đua khen thưởng", "Đăng ký thi đua, xét khen thưởng, hồ sơ khen thưởng."),
    ("Hệ thống tiếp nhận phản ánh hiện trường", "Người dân gửi phản ánh kèm hình ảnh, vị trí."),
    ("Phần mềm học tập trực tuyến", "Khóa học, bài giảng, kiểm tra trực tuyến cho cán bộ."),
]


def _portfolio(size: int) -> list[dict]:
    """The registered system first, then unrelated fillers up to ``size`` systems."""
    records = [{"id": "registered", **_COPY}]
    records += [{"id": f"other-{i}", "name": n, "description": d} for i, (n, d) in enumerate(_FILLER)]
    return records[:size]


@pytest.mark.parametrize("size", [1, 2, 3, 10])
@pytest.mark.parametrize(
    ("proposal", "flagged"),
    [(_COPY, True), (_NEAR, True), (_UNRELATED, False)],
    ids=["copy", "near", "unrelated"],
)
def test_a_small_portfolio_flags_copies_and_near_copies_but_not_an_unrelated_system(size, proposal, flagged):
    """A new ministry starts with a handful of systems: a copy must be flagged there too, while
    typed (``query``) and once saved (``pairs``), and an unrelated system must not."""
    finder = DuplicateFinder().fit(_portfolio(size))
    best = {m["id"]: m["score"] for m in finder.query({"id": "proposal", **proposal}, k=10)}
    assert (best.get("registered", 0.0) >= 0.6) is flagged, best

    saved = DuplicateFinder().fit([*_portfolio(size), {"id": "proposal", **proposal}])
    pairs = {frozenset((p["a"], p["b"])) for p in saved.pairs(min_score=0.6)}
    assert (frozenset(("registered", "proposal")) in pairs) is flagged
