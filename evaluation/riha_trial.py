"""Run the engine on RIHA, Estonia's real registry (1,304 systems), and print what it finds.

    python evaluation/riha_trial.py [PATH_TO/riha-2021.json] [--min-score 0.5]

The file is public data that the project does not redistribute; by default it is read from
``../shared/data/riha-2021.json`` beside the checkout. Prints the sanctioned reuse (standard
solutions and how many bodies run them), the largest overlap clusters with their members, and
how the document-management products of different vendors are grouped.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

from similarity import DuplicateFinder
from similarity.riha import load_riha

DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "riha-2021.json"
DOCUMENT_MANAGEMENT = (
    "dokumendihaldus",
    "dokumendiregist",
    "amphora",
    "delta",
    "dora",
    "opentext",
    "webdesktop",
)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--min-score", type=float, default=0.5)
    parser.add_argument("--clusters", type=int, default=12, help="how many clusters to print")
    args = parser.parse_args()
    if not args.path.exists():
        print(f"RIHA sample not found at {args.path}", file=sys.stderr)
        return 2
    records = load_riha(args.path)
    names = {r["id"]: r["name"] for r in records}
    for record in records:
        if record["instance_of"] is not None:
            names.setdefault(record["instance_of"], f"[standard solution] {record['name']}")

    started = time.perf_counter()
    finder = DuplicateFinder().fit(records)
    fitted = time.perf_counter()
    overlaps = finder.pairs(min_score=args.min_score, k=10)
    scanned = time.perf_counter()
    clusters = finder.clusters(min_score=args.min_score, k=10)
    print(f"{len(records)} systems; fit {fitted - started:.2f} s; scan {scanned - fitted:.2f} s")

    deployments = collections.Counter(r["instance_of"] for r in records if r["instance_of"])
    print(f"\nSanctioned reuse: {sum(deployments.values())} deployments of {len(deployments)} products")
    for key, count in deployments.most_common(6):
        print(f"  {count:4d} × {names[key].removeprefix('[standard solution] ')}")

    print(f"\nOverlaps at score ≥ {args.min_score}: {len(overlaps)} pairs in {len(clusters)} clusters")
    for cluster in clusters[: args.clusters]:
        members = collections.Counter(names.get(member, str(member)) for member in cluster)
        shown = "; ".join(f"{name} ×{n}" if n > 1 else name for name, n in members.most_common(5))
        print(f"  {len(cluster):3d}: {shown}{' …' if len(members) > 5 else ''}")

    print("\nDocument-management products, by cluster:")
    for number, cluster in enumerate(clusters, start=1):
        products = sorted(
            {
                names.get(m, str(m))
                for m in cluster
                if any(w in names.get(m, "").casefold() for w in DOCUMENT_MANAGEMENT)
            }
        )
        if len(products) >= 2:
            print(f"  cluster {number} ({len(cluster)} members): " + "; ".join(products[:8]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
