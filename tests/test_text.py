import unicodedata

import pytest

from registry.text import clean_line, clean_text, fold, search_terms


def test_clean_line_normalises_to_nfc_and_trims():
    decomposed = unicodedata.normalize("NFD", "  Hệ thống   quản lý\tvăn bản ")
    assert clean_line(decomposed) == "Hệ thống quản lý văn bản"
    assert unicodedata.is_normalized("NFC", clean_line(decomposed))


@pytest.mark.parametrize("value", [None, "", "   ", "\t\n"])
def test_clean_line_turns_blank_into_none(value):
    assert clean_line(value) is None


def test_clean_line_drops_control_characters():
    assert clean_line("Sổ tay\x00 đảng viên\x07") == "Sổ tay đảng viên"


def test_clean_text_keeps_paragraphs_but_not_runs_of_blank_lines():
    assert clean_text("Dòng một  \r\n\r\n\r\n\r\n  Dòng   hai") == "Dòng một\n\nDòng hai"


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Hệ thống QUẢN LÝ văn bản", "he thong quan ly van ban"),
        ("Đảng ủy xã Đông Anh", "dang uy xa dong anh"),
        ("hoà / hòa", "hoa / hoa"),
        ("", ""),
    ],
)
def test_fold_strips_diacritics_and_case(text, folded):
    assert fold(text) == folded


def test_search_terms_are_folded_unique_and_capped():
    assert search_terms("Văn bản văn BẢN điều hành") == ["van", "ban", "dieu", "hanh"]
    assert len(search_terms(" ".join(f"w{i}" for i in range(20)))) == 8
