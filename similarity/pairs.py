"""The pairs of a scan as one table of arrays, and each pair as a read-only mapping.

A scan of 100,000 systems yields half a million pairs; keeping them as columns and building
each pair's reasons only when read keeps the scan's memory and time to the arithmetic.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from similarity.reuse import via_reason
from similarity.scoring import describe

if TYPE_CHECKING:  # the finder builds the table, which reads the finder's reasons back
    from similarity.finder import DuplicateFinder

__all__ = ["Pair", "PairTable"]


class PairTable:
    """The pairs of one scan as arrays; reasons are built a block at a time, when first read.

    Building the reviewer's reasons (shared phrases grown word by word, capability lists) is
    most of a full scan's cost when done for every pair, and most callers read the reasons of
    few of them (clusters, counts, the first page) — or stream them out, block by block.
    """

    BLOCK = 2048

    def __init__(
        self,
        finder: DuplicateFinder,
        left: np.ndarray,
        right: np.ndarray,
        shown_left: np.ndarray,
        shown_right: np.ndarray,
        scores: np.ndarray,
        values: dict[str, np.ndarray],
        reuse: np.ndarray,
        via: np.ndarray,
    ):
        self.finder = finder
        # The fitted state as it was: later updates only append rows, so these stay valid.
        self.records = finder.records_
        self.blocks = finder.text_.blocks_
        self.texts = finder.text_.texts_
        self.left, self.right = left, right
        self.shown_left, self.shown_right = shown_left, shown_right
        self.scores = scores
        self.values = values
        self.reuse = reuse
        self.via = via
        self._reasons: dict[int, list[list[dict[str, Any]]]] = {}

    def components(self, index: int) -> dict[str, float | None]:
        result = {}
        for name, array in self.values.items():
            value = float(array[index])
            result[name] = None if value != value else round(value, 4)
        return result

    def reasons(self, index: int) -> list[dict[str, Any]]:
        block = index // self.BLOCK
        if block not in self._reasons:
            start, end = block * self.BLOCK, min((block + 1) * self.BLOCK, self.left.size)
            described = describe(
                self.finder,
                self.records,
                self.finder.functions_.named,
                self.blocks,
                self.texts,
                self.left[start:end],
                self.right[start:end],
                {name: array[start:end] for name, array in self.values.items()},
                self.scores[start:end],
            )
            reasons = [match["reasons"] for match in described]
            for offset, count in enumerate(self.via[start:end].tolist()):
                if count:
                    reasons[offset] = [*reasons[offset], via_reason(count)]
            self._reasons[block] = reasons
        return self._reasons[block][index - block * self.BLOCK]


class Pair(Mapping[str, Any]):
    """One pair of :meth:`DuplicateFinder.pairs`: a read-only mapping with ``a``, ``b``,
    ``score``, ``relation``, ``reasons``, ``components`` and, for an overlap found through
    deployments of a platform, ``via_deployments``.

    It reads like the dict it stands for (``pair["reasons"]``, ``dict(pair)``, ``{**pair}``),
    but holds only its position in the scan's arrays: the reasons are built when first read.
    """

    __slots__ = ("_index", "_table")

    _KEYS = ("a", "b", "score", "relation", "reasons", "components")

    def __init__(self, table: PairTable, index: int):
        self._table = table
        self._index = index

    def __getitem__(self, key: str) -> Any:
        table, index = self._table, self._index
        if key == "a":
            return table.records[int(table.shown_left[index])].id
        if key == "b":
            return table.records[int(table.shown_right[index])].id
        if key == "score":
            return float(table.scores[index])
        if key == "relation":
            return "reuse" if table.reuse[index] else "overlap"
        if key == "reasons":
            return table.reasons(index)
        if key == "components":
            return table.components(index)
        if key == "via_deployments" and table.via[index]:
            return int(table.via[index])
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        yield from self._KEYS
        if self._table.via[self._index]:
            yield "via_deployments"

    def __len__(self) -> int:
        return len(self._KEYS) + bool(self._table.via[self._index])

    def __repr__(self) -> str:
        return f"Pair({dict(self)!r})"
