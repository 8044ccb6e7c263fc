"""Read the next batch of an export while the current one is being written.

An export alternates between waiting for the database (PostgreSQL computing a batch in its
own process, SQLite stepping through pages with the GIL released) and building the file in
Python. Running the reads in a thread, at most ``depth`` batches ahead, overlaps the two on a
machine with a second core; memory stays bounded by those few batches.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetched(produce: Callable[[], Iterator[T]], depth: int = 1) -> Iterator[T]:
    """The items of ``produce()``, which runs in a thread of its own.

    ``produce()`` is called in that thread, so whatever it opens (a connection) is used by it
    alone. An error there is raised here; closing this iterator early (a client that goes
    away mid-download) stops the thread and closes ``produce()``'s iterator, so its
    connection returns to the pool.
    """
    items: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            with closing(produce()) as source:
                for item in source:
                    if not offer(item):
                        return
            offer(_DONE)
        except BaseException as error:  # noqa: BLE001 - handed to the reader, who raises it
            offer(_Failed(error))

    thread = threading.Thread(target=run, name="export-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()
