"""The editable vocabulary of matching: thesaurus, place names, generic words.

Everything here is read from the plain files in ``similarity/data`` so that the standing office
can teach the engine a new abbreviation or a new place name without touching Python.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from similarity.normalize import canonical, strip_accents

__all__ = ["DATA_DIR", "Lexicon", "default_lexicon"]

DATA_DIR = Path(__file__).resolve().parent / "data"


def _read_lines(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _read_thesaurus(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle)
        missing = {"variant", "canonical"} - set(rows.fieldnames or ())
        if missing:
            raise ValueError(f"{path.name}: missing column(s) {', '.join(sorted(missing))}")
        return [
            (row["variant"].strip(), row["canonical"].strip())
            for row in rows
            if row["variant"] and row["canonical"]
        ]


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """The phrases as whole words, the longest that matches at a position winning.

    The alternation is shaped like a trie (``quản lý(?: văn bản| hồ sơ)?``): a flat list of
    a thousand phrases is tried one by one at every position of every text, while a trie
    reads each character once. Greedy optional tails keep "longest first", and the regex
    backtracks to a shorter phrase when a longer one is not followed by a word boundary.
    """
    unique = {p for p in phrases if p}
    if not unique:
        return None
    trie: dict[str, dict] = {}
    for phrase in unique:
        node = trie
        for character in phrase:
            node = node.setdefault(character, {})
        node[""] = {}
    return re.compile(rf"(?<![\w])(?:{_trie_pattern(trie)})(?![\w])")


def _trie_pattern(node: dict[str, dict]) -> str:
    branches = [
        re.escape(character) + _trie_pattern(child) for character, child in sorted(node.items()) if character
    ]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
    if "" in node:  # a phrase ends here: the longer ones are optional, tried first
        return f"(?:{body})?"
    return body


@dataclass(frozen=True)
class Lexicon:
    """Rewrites (thesaurus) and removals (places, administrative and generic words).

    Every phrase is matched in its accented canonical form and in its unaccented form, because
    people type both; a rewrite always produces the accented canonical phrase.
    """

    rewrites: tuple[tuple[str, str], ...]
    removals: tuple[str, ...]

    @classmethod
    def from_files(
        cls,
        thesaurus: Path | None = None,
        places: Path | None = None,
        admin_terms: Path | None = None,
        generic_terms: Path | None = None,
    ) -> Lexicon:
        rows = _read_thesaurus(thesaurus or DATA_DIR / "thesaurus.csv")
        removals = [
            *_read_lines(places or DATA_DIR / "places.txt"),
            *_read_lines(admin_terms or DATA_DIR / "admin_terms.txt"),
            *_read_lines(generic_terms or DATA_DIR / "generic_terms.txt"),
        ]
        return cls(rewrites=tuple(rows), removals=tuple(removals))

    @property
    def _compiled(self) -> tuple[re.Pattern[str] | None, dict[str, str], re.Pattern[str] | None]:
        return _compile(self)

    def rewrite(self, text: str) -> str:
        """Replace every known variant (``TTHC``, ``một cửa điện tử``…) by its canonical phrase."""
        pattern, targets, _ = self._compiled
        if pattern is None:
            return text
        return pattern.sub(lambda m: targets[m.group(0)], text)

    def remove(self, text: str) -> str:
        _, _, pattern = self._compiled
        if pattern is None:
            return text
        return re.sub(r"\s+", " ", pattern.sub(" ", text)).strip()

    def prepare(self, text: str | None) -> tuple[str, str]:
        """(accented, unaccented) text reduced to what says something about function."""
        accented = self.remove(self.rewrite(canonical(text)))
        return accented, strip_accents(accented)


@lru_cache(maxsize=8)
def _compile(lexicon: Lexicon) -> tuple[re.Pattern[str] | None, dict[str, str], re.Pattern[str] | None]:
    targets: dict[str, str] = {}
    for variant, target in lexicon.rewrites:
        canonical_target = canonical(target)
        for form in (canonical(variant), strip_accents(variant)):
            targets.setdefault(form, canonical_target)
    removal_forms = {
        form for phrase in lexicon.removals for form in (canonical(phrase), strip_accents(phrase))
    }
    return _phrase_pattern(targets), targets, _phrase_pattern(removal_forms)


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    return Lexicon.from_files()
