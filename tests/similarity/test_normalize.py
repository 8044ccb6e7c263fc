import unicodedata

import pytest

from similarity.normalize import canonical, strip_accents, words


@pytest.mark.parametrize(
    ("variants", "expected"),
    [
        (["hoà", "hòa", "HOÀ", unicodedata.normalize("NFD", "hoà")], "hòa"),
        (["uỷ ban", "ủy ban", "Uỷ Ban"], "ủy ban"),
        (["hoá đơn", "hóa đơn"], "hóa đơn"),
        (["khoẻ", "khỏe"], "khỏe"),
        (["thuỵ", "thụy"], "thụy"),
    ],
)
def test_one_tone_placement(variants, expected):
    assert {canonical(v) for v in variants} == {expected}


@pytest.mark.parametrize("word", ["quý", "hoàn thành", "thuở", "giá"])
def test_closed_syllables_and_consonant_clusters_keep_their_mark(word):
    assert canonical(word) == word


def test_canonical_is_idempotent_and_nfc():
    text = canonical("  Hệ thống   QUẢN LÝ  văn bản ")
    assert text == "hệ thống quản lý văn bản"
    assert canonical(text) == text
    assert unicodedata.is_normalized("NFC", text)


def test_strip_accents():
    assert strip_accents("Đảng ủy Hòa Bình") == "dang uy hoa binh"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_empty_text(value):
    assert canonical(value) == "" and strip_accents(value) == ""


def test_words():
    assert words("quản lý, văn-bản 2025") == ["quản", "lý", "văn", "bản", "2025"]
