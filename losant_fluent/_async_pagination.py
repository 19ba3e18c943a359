"""Paginated results for ``AsyncAPI``: await the first page, or ``async for`` every item.

A paginated verb of an async node returns an :class:`AsyncPaged`, which sends nothing
until it is awaited (the first page, a model such as ``Devices``) or iterated
(``async for device in app.devices().get(perPage=1000)``). :class:`AsyncPageWalk` is the
async twin of ``_pagination.PageWalk``: the same :class:`~losant_fluent._pagination.Pager`
decides where each next page starts and raises the same ``InvalidResponseError`` when a
page contradicts the walk; a later page is the first call with only the position moved,
awaited through the same pipeline. With ``read_ahead=True`` the next page is fetched in a
task while the current one is consumed. A failed page raises its ``LosantError`` pointing
back at the walk: ``err.resume()`` gives the walk, iterating it again retries that page.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Generator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from ._exceptions import LosantError
from ._pagination import STYLES, Pager, WalkState, decode_page, page_items

if TYPE_CHECKING:
    from typing_extensions import Self

    from ._async_pipeline import AsyncPipeline
    from ._wire import WireCall
    from .models._base import LosantCollection

__all__ = ["AsyncPageWalk", "AsyncPaged", "walk"]

T = TypeVar("T", covariant=True)  # a page type: only ever produced, never taken
ItemT = TypeVar("ItemT")
W = TypeVar("W")


class AsyncPaged(Generic[T]):
    """A paginated call not sent yet: ``await`` it for the first page, ``async for`` items.

    ``iter_items(max_items=, read_ahead=, raw=)`` and ``pages(read_ahead=, raw=)`` give
    walks with options; ``await paged.to_list()`` collects every item;
    ``await paged.to_pandas()`` (needs the ``data`` extra) gathers every page first.
    """

    __slots__ = ("_pipeline", "_call")

    def __init__(self, pipeline: AsyncPipeline, call: WireCall) -> None:
        self._pipeline = pipeline
        self._call = call

    def __repr__(self) -> str:
        return f"<AsyncPaged {self._call.method} {self._call.target()}>"

    async def first(self) -> T:
        """Send the call: the first page, as the sync verb returns it."""
        result: T = decode_page(self._pipeline, self._call, await self._pipeline.asend(self._call))
        return result

    def __await__(self) -> Generator[Any, None, T]:
        return self.first().__await__()

    # ``async for device in app.devices().get()`` types ``device`` as ``Device``: the item
    # type is read off the page type (``Devices`` is a ``LosantCollection[Device]``).
    @overload
    def __aiter__(self: AsyncPaged[LosantCollection[ItemT]]) -> AsyncPageWalk[ItemT]: ...
    @overload
    def __aiter__(self) -> AsyncPageWalk[Any]: ...
    def __aiter__(self) -> AsyncPageWalk[Any]:
        return self.iter_items()

    def iter_items(
        self, *, max_items: int | None = None, read_ahead: bool = False, raw: bool = False
    ) -> AsyncPageWalk[Any]:
        """Walk the items of every page (``max_items``: stop after that many)."""
        return AsyncPageWalk(self._pipeline, self._call, max_items=max_items,
                             read_ahead=read_ahead, raw=raw)

    def pages(self, *, read_ahead: bool = False, raw: bool = False) -> AsyncPageWalk[Any]:
        """Walk the pages: each a model like the first (``raw=True``: the decoded dict)."""
        return AsyncPageWalk(self._pipeline, self._call, pages=True, read_ahead=read_ahead,
                             raw=raw)

    async def to_list(self, *, max_items: int | None = None, raw: bool = False) -> list[Any]:
        """Every item of every page, in a list."""
        return [item async for item in self.iter_items(max_items=max_items, raw=raw,
                                                       read_ahead=True)]

    async def to_pandas(self) -> Any:
        """All items as a ``pandas.DataFrame``, via the sync client's converter.

        Every page is gathered first (read ahead), then converted as one page holding all
        the items, as the API sent them.
        """
        from ._data import to_pandas
        from .models._registry import attach_response, model_for

        first: dict[str, Any] | None = None
        items: list[Any] = []
        async for page in self.pages(read_ahead=True, raw=True):
            if first is None:
                first = dict(page)
            items.extend(page_items(page))
        assert first is not None  # a walk always has a first page
        first["items"] = items
        first["count"] = len(items)
        endpoint = self._call.endpoint
        schema = endpoint.success_schema(200) if endpoint is not None else None
        if schema is None:
            raise TypeError(f"{self._call.path} has no tabular form")
        # The converter reads the JSON as sent and only the model's field types: no need
        # to build a model per item first.
        result = model_for(schema).model_construct()
        attach_response(result, None, first)
        return to_pandas(result)


def walk(
    page: Any, *, pages: bool = False, max_items: int | None = None, read_ahead: bool = False
) -> AsyncPageWalk[Any]:
    """An ``async for`` walk starting from an awaited first page (``page = await ...get()``)."""
    private = getattr(page, "__pydantic_private__", None)
    pager = private.get("_losant_pager") if isinstance(private, dict) else None
    if not isinstance(pager, Pager):
        raise TypeError(f"{type(page).__name__} is not a page of a paginated AsyncAPI call")
    from ._async_pipeline import AsyncPipeline

    if not isinstance(pager.pipeline, AsyncPipeline):
        raise TypeError("this page came from a sync API: iterate it with a plain `for`")
    return AsyncPageWalk(pager.pipeline, pager.call, first=page, pages=pages,
                         max_items=max_items, read_ahead=read_ahead)


class AsyncPageWalk(WalkState, AsyncIterator[W]):
    """An async iterator over the items (or pages) of a paginated call, fetched lazily.

    The same rules as ``PageWalk``, decided by the same :class:`~losant_fluent.PageWalk`
    state machine (``WalkState``): the next page is requested when the current one is used
    up (or, with ``read_ahead``, while it is consumed, in a task); ``max_items`` fetches
    nothing beyond; a failed page raises with ``err.page_number``/``err.page_params`` set
    and ``err.resume()`` returning this walk, which retries the page when iterated again.
    """

    def __init__(
        self,
        pipeline: AsyncPipeline,
        call: WireCall,
        *,
        first: Any = None,
        pages: bool = False,
        max_items: int | None = None,
        read_ahead: bool = False,
        raw: bool = False,
    ) -> None:
        pager = Pager(pipeline, call)
        if pager.style not in STYLES:
            raise TypeError(f"{call.method} {call.path} is not paginated")
        self._init_walk(pager, pages=pages, max_items=max_items, raw=raw)
        self._pipeline = pipeline
        self._read_ahead = read_ahead
        self._ahead_task: tuple[dict[str, Any], asyncio.Task[Any]] | None = None
        self._started = False
        self._first = first

    def __repr__(self) -> str:
        what = "pages" if self._pages else "items"
        return f"<AsyncPageWalk of {what}: page {self._page_number}, {self.yielded} yielded>"

    def __aiter__(self) -> Self:
        return self

    # An error's resume() is typed for sync walks; a plain ``for`` here names the fix.
    def __iter__(self) -> Self:
        return self

    def __next__(self) -> Any:
        raise TypeError("an AsyncAPI walk is iterated with `async for`")

    async def _fetch(self, position: Mapping[str, Any] | None) -> Any:
        pager = self._pager
        assert pager is not None
        call = pager.call if position is None else pager._moved(position)
        pipeline = self._pipeline
        if self._raw:
            return pipeline.decode_json(call, await pipeline.asend(call))
        return decode_page(pipeline, call, await pipeline.asend(call),
                           eager=self._eager and position is not None)

    async def _start(self) -> None:
        first = self._first
        self._first = None
        if first is None:
            try:
                first = await self._fetch(None)
            except LosantError as err:
                assert self._pager is not None
                self._failed(err, self._pager.start(), 0)
                raise
        elif self._raw and not isinstance(first, Mapping):
            first = first.raw_json()
        self._started = True
        self._begin(first)
        self._read_on()

    async def __anext__(self) -> W:
        if not self._started:
            await self._start()
            if self._pages:
                self._yielded += 1
                page: W = self._page
                return page
        if self._pages:
            if self._next is None:
                raise StopAsyncIteration
            await self._advance()
            self._yielded += 1
            following: W = self._page
            return following
        while True:
            step, value = self._step()
            if step == "item":
                item: W = value
                return item
            if step == "done":
                if self._next is not None:  # stopped by max_items
                    await self.aclose()
                raise StopAsyncIteration
            await self._advance()

    async def _advance(self) -> None:
        """Make the next page current; on failure raise with nothing advanced."""
        position = self._to_fetch()
        ahead, self._ahead_task = self._ahead_task, None
        try:
            if ahead is not None and ahead[0] == position:
                page = await ahead[1]
            else:
                if ahead is not None:
                    _drop(ahead[1])
                page = await self._fetch(position)
            self._took(page, position)
        except LosantError as err:
            self._failed(err, position, self._page_number + 1)
            raise
        self._read_on()

    def _read_on(self) -> None:
        """With read-ahead, start fetching the next page unless it will not be needed."""
        position = self._ahead() if self._read_ahead else None
        if position is not None:
            self._ahead_task = (position, asyncio.ensure_future(self._fetch(position)))

    async def aclose(self) -> None:
        """Stop the walk: a page being read ahead is cancelled."""
        ahead, self._ahead_task = self._ahead_task, None
        self._next = None
        if ahead is not None:
            _drop(ahead[1])


def _drop(task: asyncio.Task[Any]) -> None:
    """Cancel a read-ahead task nobody will await, without 'never retrieved' warnings."""
    task.cancel()
    task.add_done_callback(lambda t: None if t.cancelled() else t.exception())
