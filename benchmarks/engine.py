"""Time the overlap engine on synthetic portfolios, against scikit-learn and sparse-dot-topn.

    python benchmarks/engine.py --systems 10000 [--queries 200] [--compare]

Each run generates a portfolio with ``benchmarks/generate.py`` (Vietnamese-like names and
descriptions, capabilities, dependencies, deployments of shared platforms), then measures:

* ``fit``: vocabulary, vectors and indexes of the whole portfolio;
* ``query``: one proposal against the portfolio (p50/p95 over ``--queries`` edited names);
* ``save``: ``update`` with one edited record (what a save adds to the index), and the same
  followed by a query (what a save costs the registry, which then warns about the saved text);
* ``scan``: every system's 10 best partners above 0.5, scored with every signal; the reasons
  are built when read, so the best ``--reasons`` pairs' are read and timed apart
  (``--all-reasons`` reads every pair's, as the command line's export does);
* wall time, CPU time of all threads, and peak resident memory after each phase.

With ``--compare``, on the same machine and data: scikit-learn ``NearestNeighbors(metric=
"cosine", algorithm="brute")`` over the engine's own text vectors (10 neighbours of every row),
and ``sparse_dot_topn.sp_matmul_topn`` over plain word TF-IDF (top 10 per row, 2 threads) —
both produce neighbour lists only, without the engine's structure signals or reasons.
Run each size in its own process: peak memory is per process.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate  # noqa: E402

from similarity import DuplicateFinder  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def engine_records(n: int, seed: int) -> list[dict[str, Any]]:
    portfolio = generate(n, seed)
    links: dict[str, dict[int, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for row in portfolio.capability_links:
        links["capabilities"][row["system_id"]].append(row["capability_id"])
    for row in portfolio.domain_links:
        links["data_domains"][row["system_id"]].append(row["data_domain_id"])
    for row in portfolio.user_links:
        links["user_agencies"][row["system_id"]].append(row["agency_id"])
    for row in portfolio.dependencies:
        links["depends_on"][row["source_id"]].append(row["target_id"])
    return [
        {
            "id": s["id"],
            "name": s["name"],
            "description": s["description"],
            "purpose": s["purpose"],
            "level": s["scope_level"],
            "agency": s["owner_agency_id"],
            "is_shared_platform": s["is_shared_platform"],
            "instance_of": s["instance_of_id"],
            "capabilities": links["capabilities"].get(s["id"]),
            "data_domains": links["data_domains"].get(s["id"]),
            "user_agencies": links["user_agencies"].get(s["id"]),
            "depends_on": links["depends_on"].get(s["id"], []),
        }
        for s in portfolio.systems
    ]


def timed(label: str, action: Callable[[], Any]) -> Any:
    """Run ``action``; print its wall time, its CPU time (all threads) and the peak memory so far.

    CPU time tells a slow phase from a busy machine: on a shared machine wall time grows with
    the other processes, CPU time hardly does.
    """
    started, cpu = time.perf_counter(), time.process_time()
    result = action()
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    print(f"{label:44s} {wall:9.2f} s   cpu {used:8.2f} s   peak {peak_mb():8.0f} MB", flush=True)
    return result


def proposals(records: list[dict[str, Any]], count: int, seed: int) -> list[dict[str, str]]:
    """Names and descriptions as a person would type them: reworded, sometimes without tone marks."""
    rng = random.Random(seed)
    from similarity.normalize import strip_accents

    picked = rng.sample(records, min(count, len(records)))
    result = []
    for record in picked:
        name = record["name"].replace("Hệ thống", "Phần mềm").replace("của", "")
        if rng.random() < 0.3:
            name = strip_accents(name)
        result.append({"name": name, "description": (record["description"] or "")[:200]})
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--systems", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--compare", action="store_true", help="also run NearestNeighbors and sparse-dot-topn"
    )
    parser.add_argument("--no-scan", action="store_true", help="skip the all-pairs scan")
    parser.add_argument("--updates", type=int, default=100, help="saves of edited texts to time")
    parser.add_argument("--reasons", type=int, default=10_000, help="pairs whose reasons are read")
    parser.add_argument("--all-reasons", action="store_true", help="also read every pair's reasons")
    args = parser.parse_args()

    print(f"engine benchmark: {args.systems:,} synthetic systems (seed {args.seed})")
    records = timed("generate portfolio", lambda: engine_records(args.systems, args.seed))
    finder = timed("fit", lambda: DuplicateFinder(semantic=None).fit(records))

    latencies = []
    typed = proposals(records, args.queries + 5, args.seed)
    for proposal in typed[:5]:  # warm-up: the first query builds the per-term retrieval index
        finder.query(proposal, k=10)
    for proposal in typed[5:]:
        started = time.perf_counter()
        finder.query(proposal, k=10)
        latencies.append((time.perf_counter() - started) * 1000)
    p50, p95 = np.percentile(latencies, [50, 95])
    label = f"query k=10 ({len(latencies)} proposals)"
    print(f"{label:44s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  max {max(latencies):6.1f} ms")

    # Wall and CPU time of each save: on a busy machine the wall time of a 10 ms step is mostly
    # waiting for a core, which the CPU time leaves out.
    updates, update_cpu, saves, save_cpu = [], [], [], []
    for record in random.Random(args.seed + 1).sample(records, min(args.updates, len(records))):
        edited = {**record, "description": f"{record['description'] or ''} Bổ sung phân hệ báo cáo."}
        started, cpu = time.perf_counter(), time.process_time()
        finder.update([edited])
        updated, updated_cpu = time.perf_counter(), time.process_time()
        finder.query(edited, k=10)
        updates.append((updated - started) * 1000)
        update_cpu.append((updated_cpu - cpu) * 1000)
        saves.append((time.perf_counter() - started) * 1000)
        save_cpu.append((time.process_time() - cpu) * 1000)
    for label, figures, cpu_figures in (
        (f"save: update alone ({len(saves)} edited texts)", updates, update_cpu),
        (f"save: update + query ({len(saves)} edited texts)", saves, save_cpu),
    ):
        if figures:
            p50, p95 = np.percentile(figures, [50, 95])
            cpu50, cpu95 = np.percentile(cpu_figures, [50, 95])
            print(
                f"{label:44s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  max {max(figures):6.1f} ms"
                f"   cpu p50 {cpu50:5.1f} ms  p95 {cpu95:5.1f} ms"
            )

    if not args.no_scan:
        pairs = timed("scan: pairs(min_score=0.5, k=10)", lambda: finder.pairs(min_score=0.5, k=10))
        print(f"{'':44s} {len(pairs):,} pairs")
        sample = pairs[: args.reasons]
        timed(f"reasons of the best {len(sample):,} pairs", lambda: [p["reasons"] for p in sample])
        if args.all_reasons:
            timed("reasons of every pair", lambda: [p["reasons"] for p in pairs])

    if args.compare:
        compare(finder, records)
    return 0


def compare(finder: DuplicateFinder, records: list[dict[str, Any]]) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.neighbors import NearestNeighbors

    vectors = finder.text_.matrix_
    model = NearestNeighbors(n_neighbors=11, metric="cosine", algorithm="brute", n_jobs=2).fit(vectors)
    timed(
        "NearestNeighbors brute cosine, 10 per row", lambda: model.kneighbors(vectors, return_distance=True)
    )

    try:
        from sparse_dot_topn import sp_matmul_topn
    except ImportError:
        print("sparse-dot-topn not installed: pip install sparse-dot-topn")
        return
    texts = [f"{r['name']} {r['description'] or ''}" for r in records]
    words = timed(
        "word TF-IDF for sparse-dot-topn", lambda: TfidfVectorizer(ngram_range=(1, 2)).fit_transform(texts)
    )
    words = words.astype(np.float32).tocsr()
    timed(
        "sparse-dot-topn word TF-IDF, top 11, 2 threads",
        lambda: sp_matmul_topn(words, words.T.tocsr(), top_n=11, threshold=0.0, n_threads=2),
    )


if __name__ == "__main__":
    sys.exit(main())
