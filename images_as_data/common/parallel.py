"""Process-parallel map with progress logging, shared by every per-image stage."""

from __future__ import annotations

import concurrent.futures
import logging
from typing import Callable, Iterable, Sequence, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


def parallel_map(
    function: Callable[[T], R],
    items: Sequence[T],
    workers: int,
    *,
    progress_every: int = 500,
    label: str = "files",
) -> list[R]:
    """``[function(item) for item in items]`` over ``workers`` processes, in order, logging progress.

    ``function`` must be picklable (a module-level function or a ``functools.partial`` of one).
    """
    total = len(items)
    if workers <= 1 or total < 2:
        results_iter: Iterable[R] = map(function, items)
        executor = None
    else:
        executor = concurrent.futures.ProcessPoolExecutor(max_workers=min(workers, total))
        chunksize = max(1, min(64, total // (workers * 8)))
        results_iter = executor.map(function, items, chunksize=chunksize)
    results = []
    try:
        for done, result in enumerate(results_iter, start=1):
            results.append(result)
            if done % progress_every == 0 or done == total:
                logger.info("%s: %d / %d done", label, done, total)
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    return results
