import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry import text
from registry.text import clean_line, clean_text, fold, is_web_address, search_terms


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


TRICKY = st.lists(
    st.sampled_from(
        list("aeo Ăăêđ\n\r\t\x00\x07\x1c\u00a0\u2028\u200b\u0301\u0323\u0300")
        + ["Hệ", "thống", "ủy", "uỷ", "  ", "\n\n\n", " \n", "\r\n"]
    ),
    max_size=30,
).map("".join)
"""Pieces that each take one of the cleaning's branches: spaces, breaks, controls, marks."""


@settings(max_examples=400, deadline=None, derandomize=True)
@given(TRICKY)
def test_clean_line_shortcut_gives_what_the_full_cleaning_gives(value):
    assert clean_line(value) == text._clean_line_fully(value)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(TRICKY)
def test_clean_text_shortcut_gives_what_the_full_cleaning_gives(value):
    assert clean_text(value) == text._clean_text_fully(value)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(TRICKY | st.text(max_size=20))
def test_fold_shortcut_gives_what_the_full_folding_gives(value):
    assert fold(value) == text._fold_fully(value)


def test_fold_takes_every_vietnamese_letter_in_both_unicode_spellings():
    letters = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
    words = [letter + mark for letter in letters for mark in "\u0300\u0301\u0303\u0309\u0323"]
    for word in words + [w.upper() for w in words]:
        for spelling in (unicodedata.normalize("NFC", word), unicodedata.normalize("NFD", word)):
            assert fold(spelling) == text._fold_fully(spelling)
            assert fold(spelling).isascii()


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("https://dichvucong.gov.vn/p/home/dvc-trang-chu.html", True),
        ("http://192.168.1.10:8080/eoffice", True),
        ("HTTPS://VNEID.GOV.VN", True),
        ("javascript:alert(1)", False),
        ("ftp://files.example.vn/", False),
        ("dichvucong.gov.vn", False),
        ("https://", False),
        ("https://a b.vn", False),
    ],
)
def test_only_http_and_https_addresses_with_a_host_are_web_addresses(value, accepted):
    assert is_web_address(value) is accepted
