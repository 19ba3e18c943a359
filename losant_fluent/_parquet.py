"""Parquet datasets from partition plans, one partition in memory at a time (``parquet``
extra: pyarrow).

Each partition is fetched, given its partition column (``date``: the UTC day of its time
column, or a column the caller names) and written as new files of a hive-partitioned
dataset (``date=2026-12-06/part-<run>-<n>-0.parquet``) before the next is fetched, so the
memory used stays that of one partition however long the result. Files are named by the
run (a UTC time and a random part): writing a later window into the same directory adds
files and never rewrites old ones, and the dataset reads back as one table.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from typing import Any

from ._dask import need
from ._fetch import check_credentials, fetch_partition
from ._plan import Plan

__all__ = ["PARQUET_HINT", "write_parquet"]

PARQUET_HINT = "pip install 'losant-fluent[parquet]'"


def _time_column(meta: Any, time_column: str | None) -> str:
    """The column whose day ``partition_on="date"`` takes."""
    if time_column is not None:
        if time_column not in meta.columns:
            raise ValueError(f"time_column {time_column!r} is not a column of this result: "
                             f"{list(meta.columns)}")
        return time_column
    if "time" in meta.columns:
        return "time"
    for column in meta.columns:
        if str(meta[column].dtype).startswith("datetime64"):
            return str(column)
    raise ValueError("partition_on='date' needs a time column and this result has none: "
                     "pass time_column= or partition_on= one of its columns")


def _existing_schema(pa: Any, pq: Any, path: str, column: str) -> Any:
    """The schema of the files a former run wrote under ``path`` (None if there are none)."""
    for folder, _dirs, files in os.walk(path):
        for name in sorted(files):
            if name.endswith(".parquet"):
                schema = pq.read_schema(os.path.join(folder, name))
                names = [n for n in schema.names if n != column]
                return pa.schema([schema.field(n) for n in names])
    return None


def write_parquet(plan: Plan, path: str | os.PathLike[str], *, partition_on: str = "date",
                  time_column: str | None = None, credentials: Any = None) -> list[str]:
    """Write ``plan``'s rows under ``path``, partitioned by ``partition_on``; the files written.

    ``partition_on="date"`` adds a ``date`` column (``YYYY-MM-DD``, UTC) from
    ``time_column`` (default: ``time``, else the first time column); any other value names
    a column of the result. ``credentials`` as for ``to_dask()``.
    """
    if not isinstance(partition_on, str) or not partition_on:
        raise TypeError(f"partition_on must be a column name or 'date', not {partition_on!r}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a directory path, not {type(path).__name__}")
    pa = need("pyarrow", "to_parquet()", PARQUET_HINT)
    pq = need("pyarrow.parquet", "to_parquet()", PARQUET_HINT)
    source = check_credentials(credentials)
    meta = plan.meta
    by_date = partition_on == "date" and "date" not in meta.columns
    day_of = _time_column(meta, time_column) if by_date else None
    if not by_date and partition_on not in meta.columns:
        raise ValueError(f"partition_on {partition_on!r} is not a column of this result: "
                         f"{list(meta.columns)} (or 'date')")
    root = os.fspath(path)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    run = f"{stamp}-{uuid.uuid4().hex[:8]}"
    schema = _existing_schema(pa, pq, root, partition_on)
    written: list[str] = []
    for partition in plan.partitions:
        frame = fetch_partition(partition, source, None, meta)
        if len(frame) == 0:
            continue
        if day_of is not None:
            frame["date"] = frame[day_of].dt.strftime("%Y-%m-%d")
        table = pa.Table.from_pandas(frame, preserve_index=False)
        key = table.column(partition_on)
        data = table.drop_columns([partition_on])
        if schema is None:
            schema = data.schema
        elif data.schema != schema:
            try:
                data = data.cast(schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
                raise ValueError(
                    f"partition {partition.index} does not fit the dataset's columns "
                    f"({exc}); write it to another directory") from None
        pq.write_to_dataset(
            data.append_column(partition_on, key), root,
            partition_cols=[partition_on],
            basename_template=f"part-{run}-{partition.index:05d}-{{i}}.parquet",
            existing_data_behavior="overwrite_or_ignore",
            file_visitor=lambda written_file: written.append(written_file.path),
        )
        del frame, table, data, key  # one partition in memory at a time
    return written
