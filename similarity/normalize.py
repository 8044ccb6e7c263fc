"""Vietnamese text normalisation for matching.

The same word reaches the registry in several spellings: precomposed or combining tone marks,
old-style ("hoà", "uỷ") or new-style ("hòa", "ủy") tone placement, upper or lower case, with
or without diacritics. Matching must see one spelling; :func:`canonical` gives the accented
one and :func:`strip_accents` the unaccented one, which is how many people type.

Examples
--------
>>> canonical("Hoà Bình  UỶ BAN")
'hòa bình ủy ban'
>>> strip_accents("Đảng ủy hòa bình")
'dang uy hoa binh'
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["canonical", "strip_accents", "words"]

_OPEN_DIPHTHONG = re.compile(
    r"(?<![\wđ])([^\W\d_]*?)(o|u)([\u0300\u0301\u0303\u0309\u0323]?)(a|e|y)([\u0300\u0301\u0303\u0309\u0323])(?![\w])",
    re.UNICODE,
)
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _move_tone(match: re.Match[str]) -> str:
    """``hoà`` → ``hòa``: in the open syllables oa, oe, uy the tone goes on the first vowel.

    ``qu`` and ``gi`` are consonants, so in ``quý`` the mark stays on the y.
    """
    onset, first, first_mark, second, second_mark = match.groups()
    if first == "u" and onset.endswith("q"):
        return match.group(0)
    if first_mark:
        return match.group(0)
    return f"{onset}{first}{second_mark}{second}"


def canonical(text: str | None) -> str:
    """NFC, case-folded, one tone placement, whitespace collapsed."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", str(text).casefold())
    decomposed = _OPEN_DIPHTHONG.sub(_move_tone, decomposed)
    return _SPACE.sub(" ", unicodedata.normalize("NFC", decomposed)).strip()


def _accent_table() -> dict[int, str]:
    """Every precomposed Latin letter with diacritics mapped to its base letter, plus the
    combining marks mapped to nothing: one ``str.translate`` strips a whole text in C."""
    table: dict[int, str] = {ord("đ"): "d", ord("Đ"): "D"}
    for start, end in ((0x00C0, 0x0250), (0x1E00, 0x1F00)):
        for code in range(start, end):
            base = "".join(c for c in unicodedata.normalize("NFD", chr(code)) if not unicodedata.combining(c))
            if base and base != chr(code):
                table[code] = base
    for code in range(0x0300, 0x0370):
        table[code] = ""
    return table


_STRIP = _accent_table()


def strip_accents(text: str | None) -> str:
    """Case-folded text without any diacritic; ``đ`` becomes ``d``."""
    if not text:
        return ""
    stripped = unicodedata.normalize("NFC", str(text)).casefold().translate(_STRIP)
    if not stripped.isascii():  # letters outside the table (rare scripts): the slow, general way
        decomposed = unicodedata.normalize("NFD", stripped)
        stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACE.sub(" ", stripped).strip()


def words(text: str) -> list[str]:
    """Word tokens (letters and digits) of already-normalised text."""
    return _WORD.findall(text)
