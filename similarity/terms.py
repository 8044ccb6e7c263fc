"""Which shared terms are worth showing a reviewer: not lone function words, bound syllables
or numbers.

The engine finds shared words by their weight in the comparison; a word can weigh something
there (it is rare in the portfolio) and still tell a reader nothing ("không", "126", "cơ").
The list of such words is data (``data/stopwords.txt``), so the standing office can extend it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from similarity.lexicon import DATA_DIR

__all__ = ["is_meaningful", "meaningful_terms", "stopwords"]

WORD = re.compile(r"\w+")


@lru_cache(maxsize=4)
def stopwords(path: Path | None = None) -> frozenset[str]:
    """The words of ``data/stopwords.txt``, lower-cased."""
    lines = (path or DATA_DIR / "stopwords.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


LONE_WORD_LENGTH = 5
"""A term of one word needs this many letters: a Vietnamese syllable standing alone ("dõi" of
"theo dõi", "họp") is nearly always a piece of a word, while brands and acronyms ("ioffice",
"vneid") are longer; a short one still counts inside a phrase."""


def is_meaningful(term: str) -> bool:
    """Whether ``term`` has a word that is neither a stop word nor a number, and, when it is a
    single word, whether that word is long enough to stand alone.

    >>> is_meaningful("văn bản đi"), is_meaningful("hệ thống"), is_meaningful("126")
    (True, False, False)
    >>> is_meaningful("hội nghị truyền hình"), is_meaningful("dõi"), is_meaningful("ioffice")
    (True, False, True)
    """
    words = [word.lower() for word in WORD.findall(term)]
    stop = stopwords()
    if len(words) == 1 and len(words[0]) < LONE_WORD_LENGTH:
        return False
    return any(not word.isdigit() and len(word) > 1 and word not in stop for word in words)


def meaningful_terms(terms: Iterable[str]) -> list[str]:
    """``terms`` without those that say nothing, in their order, each once.

    >>> meaningful_terms(["hội nghị truyền hình", "126", "đề", "cơ", "hội nghị truyền hình"])
    ['hội nghị truyền hình']
    """
    return list(dict.fromkeys(str(t).strip() for t in terms if str(t).strip() and is_meaningful(str(t))))
