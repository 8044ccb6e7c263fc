"""What the standing office knows: brand names and acronyms that tell a system's function.

"iOffice", "eDoc" and "Hệ thống quản lý văn bản và điều hành" do the same job, and no string
measure will say so. ``similarity/data/products.csv`` maps such terms (products, acronyms,
fixed phrases, in Vietnamese and English) to a function of ``similarity/data/functions.csv``,
whose codes are the registry's capability codes where one exists. Both files are plain CSV
the standing office edits; ``python -m similarity check-data`` checks them.

A system's functions are read from its name, or from the head of its description when the
name names none; a pair whose functions meet (or meet the other's declared capabilities) is
"the same function", and the reason says which term told it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from similarity.features import ColumnLookup, GrowingRows
from similarity.normalize import canonical, strip_accents

__all__ = ["FunctionRows", "Function", "Knowledge", "Term", "default_knowledge"]

DATA_DIR = Path(__file__).resolve().parent / "data"
KINDS = ("product", "acronym", "synonym")
DESCRIPTION_HEAD = 240
"""Characters of a description read for terms when the name has none (its first sentences)."""


@dataclass(frozen=True)
class Function:
    code: str
    label_vi: str
    label_en: str

    def label(self, locale: str) -> str:
        return self.label_en if locale.startswith("en") else self.label_vi


@dataclass(frozen=True)
class Term:
    term: str
    function: str
    kind: str
    note: str


class DataFileError(ValueError):
    """A knowledge file is malformed; the message names the file, the line and the fix."""


def _rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise DataFileError(f"{path.name}: cannot be read ({exc.strerror})") from exc
    with handle:
        reader = csv.DictReader(handle)
        missing = set(columns) - set(reader.fieldnames or ())
        if missing:
            raise DataFileError(f"{path.name}: missing column(s) {', '.join(sorted(missing))}")
        return [
            (number, {key: (value or "").strip() for key, value in row.items() if key})
            for number, row in enumerate(reader, start=2)
        ]


@dataclass(frozen=True, eq=False)
class Knowledge:
    functions: Mapping[str, Function]
    terms: tuple[Term, ...]

    @classmethod
    def from_files(cls, functions: Path | None = None, products: Path | None = None) -> Knowledge:
        """Read both files, refusing what would silently teach the engine something wrong."""
        problems = []
        known: dict[str, Function] = {}
        functions_path = functions or DATA_DIR / "functions.csv"
        for line, row in _rows(functions_path, ("code", "label_vi", "label_en")):
            code = row["code"]
            if not re.fullmatch(r"[a-z][a-z0-9_]*", code):
                problems.append(f"{functions_path.name} line {line}: code {code!r} must be snake_case")
            elif code in known:
                problems.append(f"{functions_path.name} line {line}: code {code!r} is listed twice")
            elif not row["label_vi"] or not row["label_en"]:
                problems.append(f"{functions_path.name} line {line}: {code!r} needs both labels")
            else:
                known[code] = Function(code, row["label_vi"], row["label_en"])
        terms: list[Term] = []
        seen: dict[str, int] = {}
        products_path = products or DATA_DIR / "products.csv"
        for line, row in _rows(products_path, ("term", "function", "kind", "note")):
            term, function, kind = row["term"], row["function"], row["kind"]
            where = f"{products_path.name} line {line}"
            form = canonical(term)
            if not term:
                problems.append(f"{where}: the term is empty")
            elif function not in known:
                problems.append(f"{where}: function {function!r} is not in {functions_path.name}")
            elif kind not in KINDS:
                problems.append(f"{where}: kind {kind!r} must be one of {', '.join(KINDS)}")
            elif form in seen:
                problems.append(f"{where}: {term!r} is already on line {seen[form]}")
            else:
                seen[form] = line
                terms.append(Term(term, function, kind, row["note"]))
        if problems:
            raise DataFileError("\n".join(problems))
        return cls(functions=known, terms=tuple(terms))

    @property
    def _pattern(self) -> tuple[re.Pattern[str] | None, dict[str, Term]]:
        return _compile(self)

    def find(self, text: str | None) -> dict[str, str]:
        """Functions named in ``text``: ``{function code: the term that named it}``."""
        pattern, by_form = self._pattern
        if pattern is None or not text:
            return {}
        found: dict[str, str] = {}
        # Accented text meets accented forms; text typed without tone marks meets the
        # unaccented ones, so "Sóc Trăng" is never read as "SOC".
        for match in pattern.finditer(canonical(text)):
            term = by_form.get(match.group(0))
            if term is not None:
                found.setdefault(term.function, term.term)
        return found

    def functions_of(self, name: str | None, description: str | None) -> dict[str, str]:
        return self.find(name) or self.find((description or "")[:DESCRIPTION_HEAD])

    def label(self, code: str, locale: str = "en") -> str:
        function = self.functions.get(code)
        return function.label(locale) if function else code


class FunctionRows:
    """Each fitted row's functions (named by terms, and declared), for array scoring.

    Rows are appended in place (:class:`~similarity.features.GrowingRows`), so a save costs
    its own row, not a rebuild of the portfolio's matrix.
    """

    def __init__(self, knowledge: Knowledge):
        self.knowledge = knowledge
        self.codes = {code: column for column, code in enumerate(knowledge.functions)}
        self.named: list[dict[str, str]] = []
        self._has = np.zeros(0, dtype=bool)
        self._growing: GrowingRows | None = None
        self._lookup = ColumnLookup()

    def append(self, records: Iterable[tuple[str, str, Iterable[object] | None]]) -> None:
        """Add rows from ``(name, description, declared capabilities)``."""
        rows: list[int] = []
        columns: list[int] = []
        start = len(self.named)
        for name, description, declared in records:
            named = self.knowledge.functions_of(name, description)
            codes = set(named) | {c for c in declared or () if isinstance(c, str) and c in self.codes}
            rows.extend([len(self.named) - start] * len(codes))
            columns.extend(self.codes[c] for c in sorted(codes))
            self.named.append(named)
        count = len(self.named) - start
        block = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float64), (rows, columns)), shape=(count, max(len(self.codes), 1))
        )
        if self._growing is None:
            self._growing = GrowingRows(block)
        else:
            self._growing.append(block)
        self._has = np.concatenate([self._has, np.diff(block.indptr) > 0])

    @property
    def matrix(self) -> sp.csr_matrix:
        assert self._growing is not None, "append rows first"
        return self._growing.matrix

    def rows_with(self, codes: Iterable[str]) -> np.ndarray:
        """Rows naming or declaring any of ``codes``."""
        columns = [self.codes[c] for c in codes if c in self.codes]
        if not columns or self._growing is None:
            return np.empty(0, dtype=np.int64)
        return self._lookup.rows(self.matrix, columns)

    def same_function_pairs(self, active: np.ndarray, limit: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
        """All pairs (i < j) of live rows that a *name* gives the same function, for functions
        few enough rows share (``limit`` pairs): larger groups share words anyway."""
        lefts, rights = [], []
        named = np.array([bool(n) for n in self.named], dtype=bool)
        for code in self.codes:
            rows = self.rows_with([code])
            rows = rows[active[rows] & named[rows]]
            if rows.size >= 2 and rows.size * (rows.size - 1) // 2 <= limit:
                a, b = np.triu_indices(rows.size, k=1)
                lefts.append(rows[a])
                rights.append(rows[b])
        if not lefts:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        return np.concatenate(lefts), np.concatenate(rights)

    def pairs(
        self,
        left_named: Sequence[dict[str, str]],
        left_matrix: sp.csr_matrix,
        rows_left: np.ndarray,
        rows_right: np.ndarray,
    ) -> np.ndarray:
        """1 where the two rows share a function, 0 where both have functions that differ,
        ``nan`` where neither *name* tells one (declared capabilities alone have their own
        signal) or either side has no function at all."""
        from similarity.features import rowdot

        shared = rowdot(left_matrix, self.matrix, rows_left, rows_right)
        has_left = np.diff(left_matrix.indptr)[rows_left] > 0
        has_right = self._has[rows_right]
        named_left = np.array([bool(left_named[i]) for i in rows_left.tolist()], dtype=bool)
        named_right = np.array([bool(self.named[j]) for j in rows_right.tolist()], dtype=bool)
        known = has_left & has_right & (named_left | named_right)
        return np.where(known, (shared > 0).astype(np.float64), np.nan)

    def evidence(
        self,
        left_named: Mapping[str, str],
        left_declared: Iterable[object] | None,
        right_row: int,
        right_declared: Iterable[object] | None,
    ) -> list[tuple[str, str]]:
        """``[(function, term)]`` behind a "same function" reason, from either side."""
        right_named = self.named[right_row]
        left_codes = set(left_named) | {c for c in left_declared or () if isinstance(c, str)}
        right_codes = set(right_named) | {c for c in right_declared or () if isinstance(c, str)}
        found: dict[str, str] = {}
        for named, other in ((left_named, right_codes), (right_named, left_codes)):
            for code, term in named.items():
                if code in other:
                    found.setdefault(code, term)
        return sorted(found.items())


@lru_cache(maxsize=8)
def _compile(knowledge: Knowledge) -> tuple[re.Pattern[str] | None, dict[str, Term]]:
    by_form: dict[str, Term] = {}
    for term in knowledge.terms:
        form = canonical(term.term)
        by_form.setdefault(form, term)
        by_form.setdefault(strip_accents(form), term)
    if not by_form:
        return None, by_form
    alternatives = sorted(by_form, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, alternatives)) + r")(?![\w/-])"), by_form


def check(knowledge_files: Iterable[Path] = ()) -> Knowledge:
    """Load the packaged files (or the given two), raising :class:`DataFileError` with every problem."""
    paths = list(knowledge_files)
    return Knowledge.from_files(*paths) if paths else Knowledge.from_files()


@lru_cache(maxsize=1)
def default_knowledge() -> Knowledge:
    return Knowledge.from_files()
