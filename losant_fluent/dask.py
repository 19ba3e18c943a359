"""Past one machine: Dask DataFrames and Parquet datasets from results (``dask`` and
``parquet`` extras).

    from losant_fluent.dask import plan, to_dask, to_parquet

    devices = api.applications(app_id).devices().get(perPage=1000)
    frame = devices.to_dask(concurrency=4)        # dask.dataframe.DataFrame
    devices.to_parquet("lake/devices", partition_on="deviceClass")

A result's :func:`plan` cuts the work behind it into small picklable partition specs (pages,
device chunks times time windows, state windows) holding no secret; :func:`to_dask` is
``dask.dataframe.from_map`` over them, and :func:`to_parquet` writes them one at a time.
Workers build their client from a credentials source: ``None`` (the default) reads
``LOSANT_API_TOKEN`` (and ``LOSANT_API_URL`` when set) in each worker's environment
(:class:`FromEnv`); a callable returning a token or an ``API`` is called once per worker
process; an ``API`` itself serves schedulers in this process only. See ``docs/dask.md``.
"""

from __future__ import annotations

import os
from typing import Any

from ._fetch import FromEnv, fetch_partition
from ._plan import Partition, Plan, Request, plan_of

__all__ = [
    "FromEnv", "Partition", "Plan", "Request", "fetch_partition", "plan", "to_dask",
    "to_parquet",
]


def plan(result: Any, *, partition_rows: int | None = None, meta: Any = None) -> Plan:
    """The partition plan of ``result`` (a collection, time series, state history or data
    table rows): picklable specs, and ``meta``, the empty frame of ``to_pandas()``.

    ``partition_rows``: about how many rows per partition; ``meta``: the columns and dtypes
    to use instead of those read from the answer.
    """
    return plan_of(result, partition_rows=partition_rows, meta=meta)


def to_dask(result: Any, *, credentials: Any = None, concurrency: int | None = None,
            partition_rows: int | None = None, meta: Any = None) -> Any:
    """``result`` as a ``dask.dataframe.DataFrame`` whose ``compute()`` equals
    ``result.to_pandas()`` (needs the ``dask`` extra).

    ``credentials``: where each worker gets its client (see the module docstring);
    ``concurrency``: at most this many partitions fetch at once (``None``: no bound beyond
    the scheduler's).
    """
    from ._dask import need
    from ._dask import to_dask as build

    need("dask.dataframe", "to_dask()")  # before anything is asked of the API
    the_plan = result if isinstance(result, Plan) else plan(
        result, partition_rows=partition_rows, meta=meta)
    return build(the_plan, credentials=credentials, concurrency=concurrency)


def to_parquet(result: Any, path: str | os.PathLike[str], *, partition_on: str = "date",
               time_column: str | None = None, credentials: Any = None,
               partition_rows: int | None = None, meta: Any = None) -> list[str]:
    """Write ``result``'s rows as a Parquet dataset under ``path`` partitioned by
    ``partition_on``, one partition in memory at a time; returns the files written.

    ``partition_on="date"`` partitions by the UTC day of ``time_column`` (default ``time``,
    else the first time column). Writing a later window into the same ``path`` adds files
    and leaves the old ones as they are. Needs the ``parquet`` extra (pyarrow).
    """
    from ._dask import need
    from ._parquet import PARQUET_HINT, write_parquet

    need("pyarrow.parquet", "to_parquet()", PARQUET_HINT)  # before anything is asked
    the_plan = result if isinstance(result, Plan) else plan(
        result, partition_rows=partition_rows, meta=meta)
    return write_parquet(the_plan, path, partition_on=partition_on, time_column=time_column,
                         credentials=credentials)
