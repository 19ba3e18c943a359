"""Walking the pages of a result and turning it into a table: the methods every result
model has (``iter_items``, ``pages``, ``to_pandas``, and ``to_dask``/``to_parquet`` as
installed in ``_hooks``), over ``_pagination`` and ``_data``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel

from .._data import to_pandas
from .._hooks import call
from .._pagination import Pager, PageWalk, pager_of

__all__ = ["PagedResultMixin"]


class PagedResultMixin:
    """Item iteration for collection models (a base of ``LosantModel``; no fields).

    A result of a paginated endpoint iterates over the items of all its pages, fetched as
    needed. A model with an ``items`` field but no pager (built by hand, or a collection
    the API never pages) iterates over its own items. Every other model keeps pydantic's
    iteration over ``(field, value)`` pairs, so ``dict(model)`` works for them.
    """

    __slots__ = ()

    def _walk_pager(self) -> Pager | None:
        return pager_of(self)

    def _collection_pager(self, what: str) -> Pager | None:
        """The pager, after checking this result is a collection at all."""
        pager = self._walk_pager()
        if pager is None and "items" not in getattr(type(self), "model_fields", {}):
            raise TypeError(
                f"{type(self).__name__} is not a collection: it has no items to {what}"
            )
        return pager

    def __iter__(self) -> Iterator[Any]:
        if self._walk_pager() is None and "items" not in getattr(type(self), "model_fields", {}):
            for name in getattr(type(self), "__losant_lazy__", ()):  # built, not plain JSON
                getattr(self, name, None)
            return BaseModel.__iter__(self)  # type: ignore[arg-type]
        return self.iter_items()

    def iter_items(
        self,
        *,
        max_items: int | None = None,
        read_ahead: bool = False,
        raw: bool = False,
        progress: bool = False,
    ) -> PageWalk:
        """Iterate over the items of this page and the pages after it, fetched lazily.

        ``max_items`` stops after that many items (no page beyond them is fetched);
        ``read_ahead=True`` fetches the next page in a background thread while the current
        one is consumed (at most one page ahead); ``raw=True`` yields the items as plain
        dicts, as the API sent them (no models: fastest); ``progress=True`` shows a progress
        bar on stderr (needs the ``data`` extra).
        """
        pager = self._collection_pager("iterate")
        return PageWalk(self, pager, max_items=max_items, read_ahead=read_ahead, raw=raw,
                        progress=progress)

    def pages(
        self, *, read_ahead: bool = False, raw: bool = False, progress: bool = False
    ) -> PageWalk:
        """Iterate over the page models: this result first, then each following page.

        A page's own items are ``page.items``; iterating a page itself walks on to the end.
        ``raw=True`` yields each page as the decoded JSON dict instead.
        """
        return PageWalk(self, self._collection_pager("page through"), pages=True,
                        read_ahead=read_ahead, raw=raw, progress=progress)

    def to_pandas(self, *, progress: bool = False,
                  device_names: Mapping[str, str] | None = None) -> Any:
        """This result as a ``pandas.DataFrame`` (needs the ``data`` extra).

        A collection walks every page (one row per item, nested fields as dotted columns);
        time-series, last-value, state-history and data-table results get their own tidy
        shapes. A last-value answer carries no device names: pass ``device_names`` (id ->
        name) to fill its ``device_name`` column; nothing else is asked of the API. See
        ``docs/data.md``.
        """
        return to_pandas(self, progress=progress, device_names=device_names)

    def to_dask(self, *, credentials: Any = None, concurrency: int | None = None,
                partition_rows: int | None = None, meta: Any = None) -> Any:
        """This result as a ``dask.dataframe.DataFrame`` whose ``compute()`` equals
        ``to_pandas()`` (needs the ``dask`` extra); see ``losant_fluent.dask.to_dask`` and
        ``docs/dask.md``."""
        return call("to_dask", self, credentials=credentials, concurrency=concurrency,
                    partition_rows=partition_rows, meta=meta)

    def to_parquet(self, path: Any, *, partition_on: str = "date",
                   time_column: str | None = None, credentials: Any = None,
                   partition_rows: int | None = None, meta: Any = None) -> list[str]:
        """Write this result as a Parquet dataset partitioned by ``partition_on``, a
        partition at a time (needs the ``parquet`` extra); see
        ``losant_fluent.dask.to_parquet``."""
        written: list[str] = call(
            "to_parquet", self, path, partition_on=partition_on, time_column=time_column,
            credentials=credentials, partition_rows=partition_rows, meta=meta)
        return written
