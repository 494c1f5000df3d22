"""Work done a few at a time within one process: the billing run's gateway calls, which wait on
the network (200–500 ms each with a real processor) rather than on this process's CPU.

Each piece of work runs in a thread of a small pool, in a copy of the caller's context (the
run's request id, the failures it tells once per account, the attempts it opened), with a
database connection of its own that is closed when the pool is done. Work that must happen in
order (an account's subscriptions: one credit balance) is one piece."""

import contextvars
import queue
import threading
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.db import connection, connections

T = TypeVar("T")
R = TypeVar("R")


def concurrently(work: Callable[[T], R], pieces: Iterable[T], *, workers: int) -> list[R]:
    """`work(piece)` for every piece, results in the order of `pieces`, up to `workers` at once.
    Runs them one after the other in the caller's thread when `workers` is 1, on SQLite (one
    writer at a time: the demo), or when the caller is inside a transaction (other connections
    would not see what it has not committed: a test's transaction, or a caller's atomic
    block). The first exception of a piece is raised once
    every piece is done."""
    pieces = list(pieces)
    if (
        workers <= 1
        or len(pieces) <= 1
        or connection.in_atomic_block
        or connection.vendor == "sqlite"
    ):
        return [work(piece) for piece in pieces]
    todo: queue.SimpleQueue = queue.SimpleQueue()
    for index, piece in enumerate(pieces):
        todo.put((index, piece, contextvars.copy_context()))
    results: list = [None] * len(pieces)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            while True:
                try:
                    index, piece, context = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    results[index] = context.run(work, piece)
                except BaseException as error:
                    errors.append(error)
        finally:
            connections.close_all()  # this thread's own connection

    threads = [
        threading.Thread(target=worker, name=f"billing-{n}", daemon=True)
        for n in range(min(workers, len(pieces)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results
