"""Fuzz every API operation, the system form and CSV imports with thousands of generated cases.

    python benchmarks/fuzz.py [--examples 250] [--database-url postgresql+psycopg://…/registry_test]

Runs the suite's own fuzz tests with ``REGISTRY_FUZZ_EXAMPLES`` raised: schemathesis over the
OpenAPI document (every operation, generated parameters and bodies, as an administrator with a
write token; each answer checked for a server error and against the documented status codes
and schemas) and hypothesis over the system form and CSV import rows
(``tests/test_fuzz_inputs.py``). It counts every request and import sent, and every answer of
500 or above; the target is none in 10,000 cases. ``--database-url`` runs them on PostgreSQL
(a database whose name contains ``test``: it is emptied).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


class Tally:
    """A pytest plugin counting the requests and imports the fuzz tests make, by answer."""

    def __init__(self) -> None:
        self.answers: Counter[int] = Counter()
        self.imports = 0

    def pytest_configure(self, config: pytest.Config) -> None:
        from werkzeug.test import Client

        from registry.services import imports

        tally = self
        real_open = Client.open
        real_plan = imports.plan_import

        def open_counted(client: Client, *args: Any, **kwargs: Any) -> Any:
            response = real_open(client, *args, **kwargs)
            tally.answers[response.status_code] += 1
            return response

        def plan_counted(*args: Any, **kwargs: Any) -> Any:
            tally.imports += 1
            return real_plan(*args, **kwargs)

        Client.open = open_counted  # type: ignore[method-assign]
        imports.plan_import = plan_counted  # type: ignore[assignment]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=250, help="generated cases per operation and door")
    parser.add_argument("--database-url", help="a PostgreSQL test database (default: SQLite)")
    args = parser.parse_args()
    os.environ["REGISTRY_FUZZ_EXAMPLES"] = str(args.examples)
    if args.database_url:
        os.environ["TEST_DATABASE_URL"] = args.database_url
    os.chdir(ROOT)
    tally = Tally()
    started = time.perf_counter()
    code = pytest.main(
        [
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_api_openapi.py::test_the_api_answers_what_its_document_promises",
            "tests/test_fuzz_inputs.py",
        ],
        plugins=[tally],
    )
    elapsed = time.perf_counter() - started
    requests = sum(tally.answers.values())
    errors = sum(count for status, count in tally.answers.items() if status >= 500)
    print(f"\nfuzz: {args.examples} examples per operation and door, {elapsed:.0f} s")
    print(f"  requests sent      {requests:8,d}")
    print(f"  imports planned    {tally.imports:8,d}")
    print(f"  cases in all       {requests + tally.imports:8,d}")
    print(f"  answers >= 500     {errors:8,d}")
    print("  answers by status  " + ", ".join(f"{s}: {n:,d}" for s, n in sorted(tally.answers.items())))
    return int(code) or (1 if errors else 0)


if __name__ == "__main__":
    sys.exit(main())
