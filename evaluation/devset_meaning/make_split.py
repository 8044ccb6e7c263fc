#!/usr/bin/env python3
"""Jurisdiction-grouped tune/test split for devset_meaning (stdlib only).

Group key = `province` when set, otherwise the ministry-level body of `agency`
(e.g. "Cục Cảnh sát giao thông - Bộ Công an" -> "Bộ Công an"). Every record of a
group goes to the same half. Among N_TRIALS random group assignments drawn with a
fixed seed, the one with the lowest penalty is kept:
  * size imbalance between halves (records), and
  * for each function with >= 4 distinct agencies overall, a half that has
    fewer than 2 distinct agencies of that function (no positive pair there);
  * for functions with 2-3 agencies, a small bonus-free penalty if one half
    has no record at all of that function is NOT applied (they may sit in one half).
Writes split.json next to this script.
"""

import json
import os
import random
from collections import defaultdict

SEED = 20261207
N_TRIALS = 20000
HERE = os.path.dirname(os.path.abspath(__file__))


def group_key(r):
    if r["province"]:
        return "P:" + r["province"]
    a = r["agency"]
    if " - " in a:
        a = a.split(" - ")[-1]
    return "C:" + a


def main():
    recs = [json.loads(l) for l in open(os.path.join(HERE, "systems.jsonl"), encoding="utf-8") if l.strip()]
    groups = defaultdict(list)
    for r in recs:
        groups[group_key(r)].append(r)
    keys = sorted(groups)
    func_agencies = defaultdict(set)
    for r in recs:
        func_agencies[r["function"]].add(r["agency"])
    big_funcs = sorted(f for f, a in func_agencies.items() if len(a) >= 4)

    def penalty(assign):
        half = {0: [], 1: []}
        for k in keys:
            half[assign[k]].extend(groups[k])
        p = abs(len(half[0]) - len(half[1])) * 1.0
        npairs = []
        for h in (0, 1):
            fa = defaultdict(set)
            fc = defaultdict(lambda: defaultdict(int))
            for r in half[h]:
                fa[r["function"]].add(r["agency"])
                fc[r["function"]][r["agency"]] += 1
            for f in big_funcs:
                if len(fa[f]) < 2:
                    p += 10.0
            n = 0
            for f, per_agency in fc.items():
                tot = sum(per_agency.values())
                n += (tot * tot - sum(c * c for c in per_agency.values())) // 2
            npairs.append(n)
        p += 0.3 * abs(npairs[0] - npairs[1])
        return p

    rng = random.Random(SEED)
    best, best_p = None, None
    for _ in range(N_TRIALS):
        assign = {k: rng.randint(0, 1) for k in keys}
        p = penalty(assign)
        if best_p is None or p < best_p:
            best, best_p = assign, p
    out = {"tune": [], "test": []}
    for k in keys:
        out["tune" if best[k] == 0 else "test"].extend(r["id"] for r in groups[k])
    out["tune"].sort()
    out["test"].sort()
    with open(os.path.join(HERE, "split.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
    print("groups", len(keys), "penalty", best_p, "tune", len(out["tune"]), "test", len(out["test"]))


if __name__ == "__main__":
    main()
