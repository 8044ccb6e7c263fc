"""Text signal: TF-IDF channels over names, descriptions and purposes.

Three channels, each L2-normalised and scaled by the square root of its weight, are stacked
into one sparse matrix, so a single sparse product gives the weighted sum of their cosines for
every candidate at once:

* ``name`` — character n-grams of the unaccented name (short texts, typos, missing tone marks);
* ``word`` — word 1–2-grams of the accented, rewritten text (what the systems are about);
* ``plain`` — word 1–2-grams of the same text without diacritics, for the many people who type
  without tone marks (``quan ly van ban`` meets ``quản lý văn bản``).

Character n-grams of whole descriptions were tried as the third channel: they were six times
denser (slower to scan) and no better on the development set (test AP 0.774 against 0.781).

Examples
--------
>>> signal = TextSignal().fit(["Quản lý văn bản", "Cổng thông tin"], ["Quản lý văn bản đến", "Tin tức"])
>>> m = signal.stack(signal.transform(["QLVB"], ["quan ly van ban di"]))
>>> float((m @ signal.matrix_.T).toarray()[0, 0]) > 0.3
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from similarity.features import GrowingRows
from similarity.lexicon import DATA_DIR, Lexicon, default_lexicon
from similarity.normalize import words
from similarity.terms import is_meaningful

__all__ = ["CHANNELS", "TextSignal"]

CHANNELS = ("name", "word", "plain")


@dataclass(frozen=True)
class _Prepared:
    name: list[str]
    word: list[str]
    plain: list[str]


class TextSignal:
    """Vectorises records' text; learned state ends in ``_`` as in scikit-learn.

    Parameters
    ----------
    weights : mapping of channel to weight; they need not sum to one (they are normalised).
    lexicon : the thesaurus and removal lists; the packaged files by default.
    """

    def __init__(self, weights: dict[str, float] | None = None, lexicon: Lexicon | None = None):
        self.weights = weights
        self.lexicon = lexicon

    def _weights(self) -> dict[str, float]:
        weights = self.weights or {"name": 0.4, "word": 0.35, "plain": 0.25}
        total = sum(weights[c] for c in CHANNELS)
        return {c: weights[c] / total for c in CHANNELS}

    def _prepare(self, names: Sequence[str], texts: Sequence[str]) -> _Prepared:
        lexicon = self.lexicon or default_lexicon()
        prepared_names = [lexicon.prepare(n)[1] for n in names]
        accented, unaccented = [], []
        for text in texts:
            a, u = lexicon.prepare(text)
            accented.append(a)
            unaccented.append(u)
        return _Prepared(prepared_names, accented, unaccented)

    def fit(self, names: Sequence[str], texts: Sequence[str]) -> TextSignal:
        prepared = self._prepare(names, texts)
        background = _default_background() if self.lexicon is None else self._prepare(*background_texts())
        self.vectorizers_ = {
            "name": TfidfVectorizer(
                analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, dtype=np.float32
            ),
            "word": TfidfVectorizer(
                analyzer="word",
                ngram_range=(1, 2),
                sublinear_tf=True,
                dtype=np.float32,
                token_pattern=r"(?u)\b\w+\b",
            ),
            "plain": TfidfVectorizer(
                analyzer="word",
                ngram_range=(1, 2),
                sublinear_tf=True,
                dtype=np.float32,
                token_pattern=r"(?u)\b\w+\b",
            ),
        }
        blocks = {}
        for channel in CHANNELS:
            documents = getattr(prepared, channel)
            # Rarity is learned over distinct texts: 110 copies of one product must not make its
            # words look common. Each distinct text is also analysed once only.
            distinct, inverse = np.unique(np.array(documents, dtype=object), return_inverse=True)
            vectorizer = self.vectorizers_[channel]
            texts = distinct.tolist()
            # Empty texts must not count as documents. Typical system texts join the corpus
            # the rarity of words is learned from (not the index): with two systems, every
            # word they share would otherwise look rare and every pair alike.
            corpus = [t for t in texts if t] + [t for t in getattr(background, channel) if t]
            vectorizer.fit(corpus or ["_"])
            # An empty portfolio (a new registry) has no rows; scikit-learn refuses to transform none.
            rows = (
                vectorizer.transform(texts)
                if texts
                else sp.csr_matrix((0, len(vectorizer.vocabulary_)), dtype=np.float32)
            )
            blocks[channel] = sp.csr_matrix(rows[inverse.ravel()])
        self._growing = {c: GrowingRows(blocks[c]) for c in CHANNELS}
        self._growing_matrix = GrowingRows(self.stack(blocks))
        self.blocks_ = {c: self._growing[c].matrix for c in CHANNELS}
        self.matrix_ = self._growing_matrix.matrix
        self.texts_: list[str] = [" ".join(words(text)) for text in prepared.word]
        self.word_features_ = [str(name) for name in self.vectorizers_["word"].get_feature_names_out()]
        return self

    def append(self, blocks: dict[str, sp.csr_matrix], texts: Sequence[str]) -> None:
        """Add rows already transformed with the fitted vocabulary (incremental updates).

        The rows go into spare room at the end of the matrices: no copy of the portfolio.
        """
        self.blocks_ = {c: self._growing[c].append(blocks[c]) for c in CHANNELS}
        self.matrix_ = self._growing_matrix.append(self.stack(blocks))
        self.texts_.extend(self.prepared_words(texts))

    def prepared_words(self, texts: Sequence[str]) -> list[str]:
        """Texts as the word channel sees them (rewritten, places and generic words removed)."""
        lexicon = self.lexicon or default_lexicon()
        return [" ".join(words(lexicon.prepare(text)[0])) for text in texts]

    def transform(self, names: Sequence[str], texts: Sequence[str]) -> dict[str, sp.csr_matrix]:
        """Per-channel L2-normalised vectors of new texts, in the fitted vocabulary."""
        prepared = self._prepare(names, texts)
        return {c: self.vectorizers_[c].transform(getattr(prepared, c)).tocsr() for c in CHANNELS}

    def stack(self, blocks: dict[str, sp.csr_matrix]) -> sp.csr_matrix:
        """One matrix whose row products are the weighted sum of the channels' cosines."""
        weights = self._weights()
        scaled = [blocks[c] * np.float32(np.sqrt(weights[c])) for c in CHANNELS]
        return sp.hstack(scaled, format="csr", dtype=np.float32)

    def shared_terms(
        self,
        left: dict[str, sp.csr_matrix],
        left_texts: Sequence[str],
        rows_left: np.ndarray,
        rows_right: np.ndarray,
        limit: int = 5,
    ) -> list[list[str]]:
        """For each pair, the phrases contributing most to its similarity.

        One sparse element-wise product for all pairs (in C) finds the strongest shared words
        and word pairs; each is then grown into the longest phrase the two texts share around
        it ("lý văn" → "quản lý văn bản điều hành"), so reviewers read words, not syllables.
        """
        result: list[list[str]] = []
        chunk = 100_000
        for start in range(0, rows_left.size, chunk):
            a = left["word"][rows_left[start : start + chunk]]
            b = self.blocks_["word"][rows_right[start : start + chunk]]
            product = sp.csr_matrix(a.multiply(b))
            for row in range(product.shape[0]):
                begin, end = product.indptr[row], product.indptr[row + 1]
                pair = start + row
                texts = (f" {left_texts[rows_left[pair]]} ", f" {self.texts_[rows_right[pair]]} ")
                result.append(
                    self._readable(product.indices[begin:end], product.data[begin:end], texts, limit)
                )
        return result

    def _readable(
        self, columns: np.ndarray, products: np.ndarray, texts: tuple[str, str], limit: int
    ) -> list[str]:
        if columns.size == 0:
            return []
        if products.size > 4 * limit:  # only the strongest few can be shown
            strongest = np.argpartition(-products, 4 * limit)[: 4 * limit]
            columns, products = columns[strongest], products[strongest]
        names = self.word_features_
        ranked = [names[c] for c in columns[np.argsort(-products, kind="stable")].tolist()]
        # Vietnamese words are often two syllables, so a lone pair may straddle two words;
        # growing it to the whole shared phrase, and skipping what a phrase already covers,
        # leaves what a reader recognises.
        terms: list[str] = []
        covered: set[str] = set()
        for term in [t for t in ranked if " " in t] + [t for t in ranked if " " not in t]:
            if set(term.split(" ")) & covered:
                continue
            phrase = _grow(term, *texts)
            if not is_meaningful(phrase):
                continue  # "không", "126": rare enough to weigh, but nothing a reader can check
            terms.append(phrase)
            covered |= set(phrase.split(" "))
            if len(terms) == limit:
                break
        return terms


@lru_cache(maxsize=1)
def background_texts() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Names and full texts of ``data/background.tsv`` (typical systems, for word rarity)."""
    names: list[str] = []
    texts: list[str] = []
    for line in (DATA_DIR / "background.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _tab, description = line.partition("\t")
            names.append(name)
            texts.append(f"{name} {description}")
    return tuple(names), tuple(texts)


@lru_cache(maxsize=1)
def _default_background() -> _Prepared:
    """The background texts as the packaged lexicon prepares them: the same on every fit, and
    preparing them was a good part of fitting a small portfolio."""
    return TextSignal()._prepare(*background_texts())


def _grow(phrase: str, first: str, second: str, longest: int = 8) -> str:
    """Extend ``phrase`` word by word while both (space-padded) texts still contain it."""
    words = phrase.split(" ")
    for direction in (1, -1):
        while len(words) < longest:
            anchor = f" {' '.join(words)} "
            at = first.find(anchor)
            if at < 0:
                break
            if direction == 1:
                following = first[at + len(anchor) :].split(" ", 1)[0]
                candidate = [*words, following] if following else None
            else:
                preceding = first[:at].rsplit(" ", 1)[-1]
                candidate = [preceding, *words] if preceding else None
            if candidate is None or f" {' '.join(candidate)} " not in second:
                break
            words = candidate
    return " ".join(words)
