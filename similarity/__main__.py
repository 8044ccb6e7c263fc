"""``python -m similarity pairs|query|clusters RECORDS.jsonl …`` — the engine from the shell.

Output is JSON lines, best first, so it pipes into ``jq`` or a spreadsheet import.
``python -m similarity check-data [FUNCTIONS.csv PRODUCTS.csv]`` checks the thesaurus of
functions, brand names and acronyms after an edit (the packaged files by default).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from similarity.finder import DuplicateFinder
from similarity.knowledge import DataFileError, Knowledge
from similarity.records import RecordError


class InputError(Exception):
    """The records file cannot be read; the message says where and why."""


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{path}: line {line} is not UTF-8 (byte {exc.start}); save the file as UTF-8"
        ) from exc
    for number, content in enumerate(text.splitlines(), start=1):
        if not content.strip():
            continue
        try:
            value = json.loads(content)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: line {number} is not valid JSON ({exc.msg})") from exc
        if not isinstance(value, dict):
            raise InputError(f"{path}: line {number} must be a JSON object")
        yield value


def _write(lines: Sequence[Mapping[str, Any]], out: TextIO, details: bool) -> None:
    for item in lines:
        if not details:
            item = {key: value for key, value in item.items() if key != "components"}
        else:
            item = dict(item)
        out.write(json.dumps(item, ensure_ascii=False, default=str) + "\n")


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m similarity", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    pairs = commands.add_parser("pairs", help="every overlapping pair, best first")
    pairs.add_argument("records", type=Path)
    pairs.add_argument("--min-score", type=float, default=0.5)
    pairs.add_argument("-k", type=int, default=None, help="keep only each system's k best partners")
    pairs.add_argument("--include-reuse", action="store_true", help="also list sanctioned reuse")

    query = commands.add_parser("query", help="the systems most like a described one")
    query.add_argument("records", type=Path)
    query.add_argument("--name", required=True)
    query.add_argument("--description", default="")
    query.add_argument("-k", type=int, default=10)

    clusters = commands.add_parser("clusters", help="groups of systems that all overlap one another")
    clusters.add_argument("records", type=Path)
    clusters.add_argument("--min-score", type=float, default=0.5)
    clusters.add_argument("-k", type=int, default=10)

    for sub in (pairs, query, clusters):
        sub.add_argument("--details", action="store_true", help="include each signal's value")
        sub.add_argument(
            "--words-only",
            action="store_true",
            help="skip the meaning channel (embedding takes about 40 ms per record on 2 cores)",
        )

    check = commands.add_parser("check-data", help="check the functions and products data files")
    check.add_argument("files", type=Path, nargs="*", help="FUNCTIONS.csv PRODUCTS.csv (packaged by default)")
    check.add_argument(
        "--try", dest="examples", action="append", default=[], help="a name to read functions from"
    )

    args = parser.parse_args(argv)
    out = out or sys.stdout
    if args.command == "check-data":
        return _check_data(args.files, args.examples, out)
    if getattr(args, "min_score", 0.0) is not None and not 0.0 <= getattr(args, "min_score", 0.0) <= 1.0:
        parser.error("--min-score must be between 0 and 1")
    if getattr(args, "k", None) is not None and args.k < 1:
        parser.error("-k must be at least 1")
    try:
        finder = DuplicateFinder(semantic=None if args.words_only else "auto").fit(read_jsonl(args.records))
    except (InputError, RecordError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "pairs":
        _write(
            finder.pairs(min_score=args.min_score, k=args.k, include_reuse=args.include_reuse),
            out,
            args.details,
        )
    elif args.command == "query":
        _write(
            finder.query({"name": args.name, "description": args.description}, k=args.k), out, args.details
        )
    else:
        groups = finder.clusters(min_score=args.min_score, k=args.k)
        _write([{"size": len(g), "members": sorted(g, key=str)} for g in groups], out, args.details)
    return 0


def _check_data(files: Sequence[Path], examples: Sequence[str], out: TextIO) -> int:
    if len(files) not in (0, 2):
        print("error: give both files (functions, then products) or none", file=sys.stderr)
        return 2
    try:
        knowledge = Knowledge.from_files(*files) if files else Knowledge.from_files()
    except DataFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    unused = set(knowledge.functions) - {term.function for term in knowledge.terms}
    out.write(f"{len(knowledge.functions)} functions, {len(knowledge.terms)} terms: OK\n")
    if unused:
        out.write(f"functions no term names yet: {', '.join(sorted(unused))}\n")
    for example in examples:
        found = knowledge.find(example)
        out.write(
            f"{example!r}: "
            + (", ".join(f"{code} (from {term!r})" for code, term in found.items()) or "no function")
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
