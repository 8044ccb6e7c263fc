"""Reading an export's batches one ahead in a thread."""

from __future__ import annotations

import threading

import pytest

from registry.exports.prefetch import prefetched


def test_items_come_in_order_from_another_thread():
    threads = set()

    def produce():
        for i in range(50):
            threads.add(threading.get_ident())
            yield i

    assert list(prefetched(produce)) == list(range(50))
    assert threads and threading.get_ident() not in threads


def test_an_error_while_reading_is_raised_to_the_reader():
    def produce():
        yield 1
        raise LookupError("gone")

    items = prefetched(produce)
    assert next(items) == 1
    with pytest.raises(LookupError, match="gone"):
        next(items)


def test_closing_early_stops_the_thread_and_closes_the_source():
    closed = threading.Event()

    def produce():
        try:
            yield from range(10_000)
        finally:
            closed.set()

    before = threading.active_count()
    items = prefetched(produce)
    assert next(items) == 0
    items.close()
    assert closed.is_set() and threading.active_count() == before
