"""Dask DataFrames from partition plans (the optional ``dask`` extra).

``to_dask`` is ``dask.dataframe.from_map`` over a plan's partitions: one task per
partition, each calling ``fetch_partition`` with the partition spec, the credentials
source and the concurrency bound. The graph holds those and the plan's empty ``meta``
frame: no token (see ``losant_fluent.dask``).
"""

from __future__ import annotations

import importlib
from typing import Any

from ._fetch import check_credentials, fetch_partition
from ._plan import Plan

__all__ = ["DASK_HINT", "need", "to_dask"]

DASK_HINT = "pip install 'losant-fluent[dask]'"


def need(module: str, what: str, hint: str = DASK_HINT) -> Any:
    """Import ``module``, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        top = module.partition(".")[0]
        raise ImportError(f"{what} needs {top}, which is not installed: {hint}",
                          name=top) from None


def check_concurrency(concurrency: Any) -> int | None:
    if concurrency is not None and (
        isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1
    ):
        raise ValueError(f"concurrency must be None or a whole number >= 1, not {concurrency!r}")
    return concurrency


def to_dask(plan: Plan, *, credentials: Any = None, concurrency: int | None = None) -> Any:
    """A ``dask.dataframe.DataFrame`` computing ``plan``'s partitions.

    ``credentials`` is where workers get their client (``None``: ``LOSANT_API_TOKEN`` in
    their environment; a callable returning a token or an ``API``; an ``API`` for schedulers
    in this process); at most ``concurrency`` partitions fetch at once (``None``: as many
    as the scheduler runs).
    """
    source = check_credentials(credentials)
    bound = check_concurrency(concurrency)
    dd = need("dask.dataframe", "to_dask()")
    need("pandas", "to_dask()")
    dask = need("dask", "to_dask()")
    # Dask turns text columns into pyarrow strings by default; the frame keeps the dtypes
    # ``to_pandas()`` gives, so the two compare equal.
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_map(
            fetch_partition,
            list(plan.partitions),
            args=(source, bound, plan.meta),
            meta=plan.meta,
            label="losant",
            enforce_metadata=False,
        )
