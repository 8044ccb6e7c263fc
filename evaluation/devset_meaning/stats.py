#!/usr/bin/env python3
"""Validate devset_meaning files and print the counts quoted in README.md (stdlib only)."""

import csv
import itertools
import json
import os
import unicodedata
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
FIELDS = [
    "id",
    "name",
    "description",
    "language",
    "agency",
    "province",
    "level",
    "function",
    "source",
    "source_title",
]
recs = []
for n, line in enumerate(open(os.path.join(HERE, "systems.jsonl"), encoding="utf-8"), 1):
    if not line.strip():
        continue
    r = json.loads(line)  # raises on invalid JSON
    assert list(r) == FIELDS, (n, list(r))
    for k in FIELDS:
        assert isinstance(r[k], str), (n, k)
        assert unicodedata.normalize("NFC", r[k]) == r[k], (n, k, "not NFC")
        if k != "province":
            assert r[k].strip(), (n, k, "empty")
    assert r["language"] in ("vi", "en"), n
    assert r["level"] in ("central", "province", "commune"), n
    assert (r["province"] == "") == (r["level"] == "central"), (n, "province/level mismatch")
    if "_" in r["function"]:  # single-word labels (reporting, email, ioc) may occur in real wording
        assert r["function"] not in r["description"], (n, "label leaked into description")
    recs.append(r)
ids = [r["id"] for r in recs]
assert len(ids) == len(set(ids)), "duplicate ids"
assert ids == ["dm-%04d" % i for i in range(1, len(ids) + 1)], "ids not consecutive"
funcs = {
    row["function"] for row in csv.DictReader(open(os.path.join(HERE, "functions.csv"), encoding="utf-8"))
}
used = {r["function"] for r in recs}
assert used <= funcs, used - funcs
assert funcs <= used, ("unused functions", funcs - used)
split = json.load(open(os.path.join(HERE, "split.json"), encoding="utf-8"))
assert sorted(split["tune"] + split["test"]) == sorted(ids), "split does not cover ids exactly once"
assert not set(split["tune"]) & set(split["test"])
src = Counter(r["source"] for r in recs)
assert max(src.values()) <= 3, src.most_common(3)
byid = {r["id"]: r for r in recs}


def pairs(L, cross_lang=False):
    return sum(
        1
        for a, b in itertools.combinations(L, 2)
        if a["function"] == b["function"]
        and a["agency"] != b["agency"]
        and (not cross_lang or a["language"] != b["language"])
    )


print("records", len(recs))
print("distinct agencies", len({r["agency"] for r in recs}))
print("distinct provinces", len({r["province"] for r in recs if r["province"]}))
print(
    "functions",
    len(funcs),
    "| with >=2 agencies",
    sum(1 for f in funcs if len({r["agency"] for r in recs if r["function"] == f}) >= 2),
    "| with >=3 records",
    sum(1 for f in funcs if sum(r["function"] == f for r in recs) >= 3),
)
print("language", dict(Counter(r["language"] for r in recs)))
print("level", dict(Counter(r["level"] for r in recs)))
print("distinct sources", len(src), "| max records per source", max(src.values()))
print("positive pairs (all)", pairs(recs), "| cross-language", pairs(recs, True))
for h in ("tune", "test"):
    L = [byid[i] for i in split[h]]
    print(
        h,
        "records",
        len(L),
        "lang",
        dict(Counter(r["language"] for r in L)),
        "agencies",
        len({r["agency"] for r in L}),
        "functions",
        len({r["function"] for r in L}),
        "positive pairs",
        pairs(L),
        "cross-language",
        pairs(L, True),
    )
both = [
    f
    for f in funcs
    if all(
        len({byid[i]["agency"] for i in split[h] if byid[i]["function"] == f}) >= 2 for h in ("tune", "test")
    )
]
print("functions with a positive pair in both halves", len(both), sorted(both))
print("OK")
