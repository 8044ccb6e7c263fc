"""Text hygiene shared by forms, loaders and search.

Vietnamese text arrives in several Unicode spellings of the same letters (precomposed or
combining tone marks, pasted from Word or typed on a phone); storing it NFC-normalised and
trimmed means equal things compare equal. ``fold`` goes further for search and sorting: users
often type without tone marks, so "van ban" must find "văn bản".
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

_WHITESPACE = re.compile(r"\s+")
_INLINE_SPACE = re.compile(r"[^\S\n]+")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""C0 controls and the bidirectional formatting characters: Vietnamese never needs the latter,
and an override (U+202E) lets one name display as another's."""
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
"""The combining-mark blocks: one regular expression instead of a Python test per character
(an import folds 100,000 descriptions)."""
_NOT_ASCII_OR_MARK = re.compile("[^\x00-\x7f" + _COMBINING.pattern[1:-1] + "]")


def _is_clean_line(value: str) -> bool:
    """True when :func:`clean_line` would return ``value`` unchanged, found with C-speed string
    tests: most text is already clean, and an import cleans every field of 100,000 rows.

    ``isprintable`` is false for every control character and every whitespace but the plain
    space, so a printable NFC text without doubled or outer spaces has nothing to clean.
    """
    return (
        value.isprintable()
        and "  " not in value
        and value[:1] != " "
        and value[-1:] != " "
        and unicodedata.is_normalized("NFC", value)
    )


def clean_line(value: str | None) -> str | None:
    """NFC, no control characters, inner whitespace collapsed; empty becomes ``None``."""
    if value is None:
        return None
    if isinstance(value, str) and _is_clean_line(value):
        return value or None
    return _clean_line_fully(value)


def _clean_line_fully(value: object) -> str | None:
    text = _CONTROL.sub("", unicodedata.normalize("NFC", str(value)))
    text = _WHITESPACE.sub(" ", text).strip()
    return text or None


def _is_clean_paragraphs(value: str) -> bool:
    """True when :func:`clean_text` would return ``value`` unchanged: clean lines joined by
    single or double line breaks, with no space at either end of a line.

    The breaks are checked here and the rest by :func:`_is_clean_line` with each break taken
    for a letter (which can only make that check stricter: a letter may combine with a mark).
    """
    return (
        "\n\n\n" not in value
        and " \n" not in value
        and "\n " not in value
        and value[:1] != "\n"
        and value[-1:] != "\n"
        and _is_clean_line(value.replace("\n", "x"))
    )


def clean_text(value: str | None) -> str | None:
    """Like :func:`clean_line` but keeps paragraph breaks of multi-line fields."""
    if value is None:
        return None
    if isinstance(value, str) and _is_clean_paragraphs(value):
        return value or None
    return _clean_text_fully(value)


def _clean_text_fully(value: object) -> str | None:
    text = _CONTROL.sub("", unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n"))
    lines = [_INLINE_SPACE.sub(" ", line).strip() for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text or None


def fold(value: str | None) -> str:
    """Lower-case, strip diacritics (đ → d) and collapse whitespace.

    >>> fold("  Hệ thống QUẢN LÝ văn bản  Đảng ")
    'he thong quan ly van ban dang'
    """
    if not value:
        return ""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    if _NOT_ASCII_OR_MARK.search(decomposed) is None:
        # Vietnamese text decomposes to ASCII letters and combining marks only: dropping every
        # non-ASCII character drops exactly the marks, in C rather than one regex match per mark.
        bare = decomposed.encode("ascii", "ignore").decode("ascii")
        return " ".join(bare.casefold().split())
    return _fold_fully(value)


def _fold_fully(value: str) -> str:
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    return _WHITESPACE.sub(" ", _COMBINING.sub("", decomposed).casefold()).strip()


def search_terms(query: str | None, limit: int = 8) -> list[str]:
    """Split a search box into folded words, dropping duplicates, capped to keep queries cheap."""
    seen: list[str] = []
    for word in fold(query).split(" "):
        if word and word not in seen:
            seen.append(word)
    return seen[:limit]


def is_web_address(value: str) -> bool:
    """An absolute http or https address with a host and no spaces: what a page may link to.

    >>> is_web_address("https://dichvucong.gov.vn/p/home/dvc-trang-chu.html")
    True
    >>> [is_web_address(v) for v in ("javascript:alert(1)", "dichvucong.gov.vn", "http://a b")]
    [False, False, False]
    """
    if any(c.isspace() for c in value):
        return False
    parts = urlsplit(value)
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
