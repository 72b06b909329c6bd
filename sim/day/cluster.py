"""Dask at the boundary: typed faces over the few `distributed` calls the twin makes.

The sharded day (`sim.day.shards`) and the sweeps (`sim.sweep`) run their work as Dask tasks.
`distributed` ships type information only in part: `Client.submit` and `Future.result` are
annotated, `Client(...)`, `LocalCluster(...)`, `as_completed`, `close`, `cancel` and `exception`
are not. Those are called here only, each under a narrow ignore, so their callers stay checked.
`distributed` itself is imported on first use: it is slow to import and only a run on Dask
needs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from distributed import Client, Future, LocalCluster

T = TypeVar("T")


def local_cluster(**options: Any) -> LocalCluster:
    """A cluster of worker processes on this machine (`options`: `LocalCluster`'s)."""
    from distributed import LocalCluster

    return LocalCluster(**options)  # type: ignore[no-untyped-call]  # distributed: unannotated


def client(address: str | LocalCluster, timeout_s: float) -> Client:
    """A client of the scheduler at `address` (or of a local cluster); OSError if unreachable."""
    from distributed import Client

    return Client(address, timeout=timeout_s)  # type: ignore[no-untyped-call]  # distributed: unannotated


def close(resource: Client | LocalCluster) -> None:
    resource.close()


def completed(futures: Iterable[Future[T]]) -> Iterator[Future[T]]:
    """The futures in the order they finish."""
    from distributed import as_completed

    finished: Iterator[Future[T]] = iter(as_completed(futures))  # type: ignore[no-untyped-call]  # distributed: unannotated
    return finished


def cancel(future: Future[Any]) -> None:
    future.cancel()  # type: ignore[no-untyped-call]  # distributed: unannotated


def exception(future: Future[Any]) -> BaseException | None:
    """The error a failed task raised (None if it did not fail)."""
    error: BaseException | None = future.exception()  # type: ignore[no-untyped-call]  # distributed: unannotated
    return error
