"""The meaning channel and the function thesaurus: what words alone cannot see."""

from __future__ import annotations

import numpy as np
import pytest

from similarity import DuplicateFinder
from similarity.__main__ import main
from similarity.knowledge import DataFileError, Knowledge, default_knowledge
from similarity.semantic import (
    OTHER,
    UNACCENTED,
    VIETNAMESE,
    Embedder,
    MemoryStore,
    language_of,
    piece_key,
    pieces,
)

PORTFOLIO = [
    {
        "id": "docs",
        "name": "Hệ thống quản lý văn bản và điều hành tỉnh Nghệ An",
        "description": "Quản lý văn bản đến, văn bản đi, hồ sơ công việc, ký số và điều hành tác nghiệp.",
        "level": "province",
    },
    {
        "id": "soc",
        "name": "Trung tâm giám sát an toàn thông tin tỉnh Nghệ An",
        "description": "Giám sát, phát hiện và cảnh báo tấn công mạng vào các hệ thống thông tin của tỉnh.",
        "level": "province",
    },
    {
        "id": "news",
        "name": "Cổng thông tin điện tử tỉnh Nghệ An",
        "description": "Đăng tin tức, thông báo, văn bản chỉ đạo của tỉnh cho người dân đọc.",
        "level": "province",
    },
    {
        "id": "ioc",
        "name": "Trung tâm giám sát điều hành thông minh (IOC) tỉnh Nghệ An",
        "description": "Tổng hợp dữ liệu giao thông, môi trường, dịch vụ công để tỉnh điều hành đô thị.",
        "level": "province",
    },
]


class CountingEmbedder(Embedder):
    """The real encoder, counting the texts it is asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0

    def embed_texts(self, texts, batch: int = 64):
        self.embedded += len(texts)
        return super().embed_texts(texts, batch)


@pytest.fixture(scope="module")
def embedder() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture(scope="module")
def finder(embedder) -> DuplicateFinder:
    return DuplicateFinder(semantic=embedder).fit(PORTFOLIO)


def reason_codes(match) -> set[str]:
    return {reason["code"] for reason in match["reasons"]}


def test_an_english_description_finds_the_vietnamese_system_doing_the_same_job(finder):
    matches = finder.query(
        {
            "name": "Provincial e-Office",
            "description": "Document management system for incoming and outgoing official documents, "
            "workflow and digital signatures of the provincial departments.",
        },
        k=4,
    )
    assert matches[0]["id"] == "docs"
    assert matches[0]["score"] >= 0.6
    assert {"same_function", "similar_meaning"} <= reason_codes(matches[0])
    assert all(m["score"] < 0.6 for m in matches[1:])


def test_a_brand_name_is_explained_by_the_thesaurus_not_by_similar_names(finder):
    probe = {
        "name": "VNPT iOffice Lạng Sơn",
        "description": "Phần mềm VNPT iOffice: văn bản đến, văn bản đi.",
    }
    match = finder.query(probe, k=4)[0]
    assert match["id"] == "docs" and match["score"] >= 0.6
    same = next(r for r in match["reasons"] if r["code"] == "same_function")
    assert {"function": "document_management", "term": "VNPT iOffice"} in same["items"]
    assert "similar_names" not in reason_codes(match)


def test_hard_negatives_that_share_words_stay_below_the_warning_threshold(finder):
    # An operations centre and a security operations centre share "trung tâm giám sát".
    pairs = {(p["a"], p["b"]): p["score"] for p in finder.pairs(min_score=0.0, include_reuse=True)}
    for a, b in (("soc", "ioc"), ("news", "docs"), ("soc", "news")):
        assert pairs.get((a, b), pairs.get((b, a), 0.0)) < 0.6


def test_vectors_are_computed_once_per_text(embedder):
    store = MemoryStore()
    DuplicateFinder(semantic=embedder, vectors=store).fit(PORTFOLIO)
    before = embedder.embedded
    again = DuplicateFinder(semantic=embedder, vectors=store).fit(PORTFOLIO)  # a restart, another worker
    assert embedder.embedded == before
    edited = {**PORTFOLIO[2], "purpose": "Only the purpose changed"}
    again.update([edited])
    assert embedder.embedded == before  # the embedded text (name and description) is unchanged
    again.update([{**PORTFOLIO[2], "description": "Tin tức và thông báo của tỉnh, nay có thêm chuyên mục."}])
    assert embedder.embedded == before + 1  # the new description only: the name's vector is kept
    assert len(store.vectors) == 2 * len(PORTFOLIO) + 1


def test_without_vectors_the_words_decide_and_the_reasons_say_so(embedder):
    store = MemoryStore()
    finder = DuplicateFinder(semantic=embedder, vectors=store, embed_missing=False).fit(PORTFOLIO)
    assert finder.missing_vectors() == len(PORTFOLIO)
    match = next(m for m in finder.query({"name": "Quản lý văn bản điều hành"}, k=4) if m["id"] == "docs")
    assert match["components"]["meaning"] is None
    assert "meaning_not_compared" in reason_codes(match)
    # The background job stores the vectors; the finder picks them up.
    texts = [text for r in PORTFOLIO for text in pieces(r["name"], r["description"])]
    store.put_many(dict(zip(map(piece_key, texts), embedder.embed_texts(texts), strict=True)))
    assert finder.attach_vectors() == len(PORTFOLIO)
    assert finder.missing_vectors() == 0
    match = next(m for m in finder.query({"name": "Quản lý văn bản điều hành"}, k=4) if m["id"] == "docs")
    assert match["components"]["meaning"] is not None
    assert "meaning_not_compared" not in reason_codes(match)


def test_words_only_keeps_the_lexical_model():
    finder = DuplicateFinder(semantic=None).fit(PORTFOLIO)
    match = finder.query({"name": "Hệ thống quản lý văn bản điều hành"}, k=1)[0]
    assert match["id"] == "docs"
    assert match["components"]["meaning"] is None
    assert "meaning_not_compared" not in reason_codes(match)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "văn bản " * 130_000,  # about 1 MB
        "📄📄 Quản lý văn bản 文档管理系统 نظام إدارة الوثائق ✅",
        "文档管理系统，用于收发公文和办理工作流程",
        "\u202equản lý văn bản\u202c",
    ],
    ids=["empty", "one-megabyte", "mixed-scripts-and-emoji", "chinese", "bidi-override"],
)
def test_odd_input_gets_a_sensible_score_never_a_crash(finder, text):
    matches = finder.query({"name": text[:300], "description": text}, k=4)
    assert all(0.0 <= m["score"] <= 1.0 for m in matches)


@pytest.mark.parametrize("size", [2, 3, 10])
def test_small_portfolios_flag_a_copy_and_spare_the_unrelated(embedder, size):
    filler = [
        {"id": f"other-{n}", "name": name, "description": description}
        for n, (name, description) in enumerate(
            [
                ("Phần mềm quản lý tài sản công", "Theo dõi tài sản, khấu hao, kiểm kê hằng năm."),
                ("Hệ thống thư điện tử công vụ", "Hộp thư cho cán bộ, công chức."),
                ("Phần mềm thi đua khen thưởng", "Đề nghị, xét duyệt và lưu hồ sơ khen thưởng."),
                ("Cơ sở dữ liệu đất đai", "Thửa đất, chủ sử dụng, biến động đất đai."),
                ("Hệ thống hội nghị truyền hình", "Họp trực tuyến giữa tỉnh và các xã."),
                ("Phần mềm kế toán hành chính sự nghiệp", "Sổ sách kế toán, báo cáo tài chính."),
                ("Cổng dữ liệu mở của tỉnh", "Công bố dữ liệu mở cho doanh nghiệp và người dân."),
                ("Phần mềm quản lý hồ sơ đảng viên", "Lý lịch, biến động, chuyển sinh hoạt đảng."),
            ]
        )
    ]
    portfolio = [PORTFOLIO[0], *filler][: size - 1] + [PORTFOLIO[1]]
    finder = DuplicateFinder(semantic=embedder).fit(portfolio[:size])
    copy = finder.query({"name": PORTFOLIO[0]["name"], "description": PORTFOLIO[0]["description"]}, k=3)
    assert copy and copy[0]["id"] == "docs" and copy[0]["score"] >= 0.6
    near = finder.query({"name": "Phần mềm QLVB Nghệ An", "description": "văn bản đến, văn bản đi"}, k=3)
    assert near and near[0]["id"] == "docs" and near[0]["score"] >= 0.6
    unrelated = finder.query(
        {"name": "Hệ thống quản lý bến xe khách", "description": "Bán vé, lịch chạy xe."}, k=3
    )
    assert all(m["score"] < 0.6 for m in unrelated)


def test_language_detection_reads_vietnamese_letters():
    assert language_of("Hệ thống quản lý văn bản") == VIETNAMESE
    assert language_of("Document management system") == OTHER
    assert language_of("He thong quan ly van ban tinh Nghe An") == UNACCENTED
    assert language_of("") == VIETNAMESE


def test_text_typed_without_tone_marks_is_compared_on_words(finder):
    """The encoder reads "quan ly van ban" poorly; the unaccented word channel was made for it."""
    match = finder.query(
        {"name": "He thong quan ly van ban dieu hanh", "description": "van ban den, van ban di"}
    )[0]
    assert match["id"] == "docs" and match["score"] >= 0.6
    assert match["components"]["meaning"] is None
    assert "meaning_not_compared" not in reason_codes(match)


# --- the thesaurus ---------------------------------------------------------------------------


def test_terms_name_functions_as_whole_words_in_either_typing():
    knowledge = default_knowledge()
    assert knowledge.find("Ứng dụng Hue-S") == {"citizen_feedback": "Hue-S"}
    assert knowledge.find("Cong dich vu cong tinh") == {"public_service_portal": "cổng dịch vụ công"}
    assert knowledge.find("Trung tâm SOC") == {"security_monitoring": "SOC"}
    assert knowledge.find("Tỉnh Sóc Trăng") == {}  # accented text never meets an unaccented form
    assert knowledge.find("Quyết định 1022/QĐ-UBND") == {}  # a document number, not the hotline
    assert knowledge.find("Phần mềm iOfficeX") == {}


def test_a_malformed_data_file_is_refused_with_every_problem_and_its_line(tmp_path):
    functions = tmp_path / "functions.csv"
    functions.write_text("code,label_vi,label_en\ndocs,văn bản,documents\nBad Code,x,y\n", encoding="utf-8")
    products = tmp_path / "products.csv"
    products.write_text(
        "term,function,kind,note\niOffice,docs,product,\nioffice,docs,product,\nHue-S,feedback,product,\n"
        "eDoc,docs,brand,\n",
        encoding="utf-8",
    )
    with pytest.raises(DataFileError) as error:
        Knowledge.from_files(functions, products)
    message = str(error.value)
    assert "functions.csv line 3" in message
    assert "products.csv line 3: 'ioffice' is already on line 2" in message
    assert "products.csv line 4: function 'feedback'" in message
    assert "products.csv line 5: kind 'brand'" in message


def test_check_data_command(tmp_path, capsys):
    assert main(["check-data", "--try", "VNPT iOffice"]) == 0
    output = capsys.readouterr().out
    assert "terms: OK" in output and "document_management (from 'VNPT iOffice')" in output
    broken = tmp_path / "products.csv"
    broken.write_text("term,function\niOffice,docs\n", encoding="utf-8")
    functions = tmp_path / "functions.csv"
    functions.write_text("code,label_vi,label_en\ndocs,văn bản,documents\n", encoding="utf-8")
    assert main(["check-data", str(functions), str(broken)]) == 1
    assert "missing column(s) kind, note" in capsys.readouterr().err


def test_stored_vectors_are_unit_length(embedder):
    vectors = embedder.embed([("Quản lý văn bản", "Văn bản đến, văn bản đi"), ("", ""), ("Hue-S", None)])
    norms = np.linalg.norm(vectors, axis=1)
    assert np.allclose(norms[[0, 2]], 1.0, atol=1e-5) and norms[1] == 0.0


def test_the_inverted_file_search_finds_near_copies_in_a_lumpy_portfolio():
    """Above the exact size, parts are searched: a near copy must still be found, even when
    thousands of rows share one text (communes running one product)."""
    from similarity.semantic import EXACT_ROWS, SemanticRows

    rng = np.random.default_rng(3)
    size = EXACT_ROWS + 2000
    base = rng.normal(size=(size, 384)).astype(np.float32)
    base[:3000] = base[0]  # one lump of identical texts
    copies = np.arange(3000, 3400)
    base[copies + 400] = base[copies] + rng.normal(scale=0.05, size=(copies.size, 384)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    keys = [(f"{row:032x}",) for row in range(size)]
    rows = SemanticRows(keys, [0] * size, {key[0]: vector for key, vector in zip(keys, base, strict=True)})
    left, right = rows.neighbour_pairs(np.ones(size, dtype=bool), np.full(size, -1), per_row=3, floor=1.0)
    found = set(zip(left.tolist(), right.tolist(), strict=True))
    recall = np.mean([(int(a), int(a) + 400) in found for a in copies])
    assert recall >= 0.95


def test_texts_seen_lately_are_not_run_through_the_model_again(monkeypatch):
    embedder = Embedder(remembered=2)
    model = embedder._loaded()
    asked: list[str] = []
    real_passage = model.passage
    monkeypatch.setattr(model, "passage", lambda texts: asked.extend(texts) or real_passage(texts))
    first = embedder.embed_texts(["Quản lý văn bản", "", "Cổng thông tin", "Quản lý văn bản"])
    assert sorted(asked) == ["Cổng thông tin", "Quản lý văn bản"]  # each distinct text once
    np.testing.assert_array_equal(first[0], first[3])
    assert not first[1].any()  # an empty text has no meaning
    again = embedder.embed_texts(["Cổng thông tin"])
    assert len(asked) == 2 and np.allclose(again[0], first[2], atol=1e-6)
    embedder.embed_texts(["Dịch vụ công"])  # the third text pushes out the least recently used
    embedder.embed_texts(["Quản lý văn bản"])
    assert asked.count("Quản lý văn bản") == 2
    assert np.allclose(np.linalg.norm(first[[0, 2]], axis=1), 1.0, atol=1e-5)
