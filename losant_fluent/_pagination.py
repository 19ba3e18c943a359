"""Walking every page of a collection result, one page at a time.

A verb whose endpoint the catalog marks as paginated returns the first page as usual (a
model such as ``Devices``), with a :class:`Pager` attached by :func:`attach_pager`. The
pager remembers the encoded call and the pipeline that sent it, and the endpoint's style:

``page``
    ``page`` (0-based) and ``perPage``; the walk ends at ``totalCount`` or on a short page.
``offset``
    ``offset`` and ``limit`` (data table rows, also the POST ``rows/query`` whose body is
    re-sent unchanged); the walk ends at ``totalCount`` or on a short page.
``cursor``
    ``startingAfterId`` and ``limit`` (instance sandboxes); the next cursor is the ``id`` of
    the last item; the walk ends when ``hasMore`` is false.

A later page is the first page's encoded call (``_wire.WireCall``) with only the page,
offset or cursor replaced, sent through the same pipeline: nothing is checked or encoded
again, and retries, renewal, errors and models are the same as for the first page.
:class:`PagedResultMixin` (a base of every ``LosantModel``) makes the result iterable over
all items; :class:`PageWalk` is the iterator doing the work, and it never ends early in
silence: an empty or short page while ``totalCount`` says more items exist, a page equal
to the one before it, or a cursor that does not move raise ``InvalidResponseError``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ._exceptions import InvalidResponseError, LosantError
from ._seen import Seen, fingerprint
from ._values import int_or, query_text
from .models._types import read

if TYPE_CHECKING:
    import requests
    from typing_extensions import Self

    from ._pipeline import PipelineBase
    from ._wire import WireCall

__all__ = ["PageWalk", "Pager", "WalkState", "attach_pager", "decode_page", "pager_of"]

STYLES = ("page", "offset", "cursor")
# The parameter each style moves from page to page.
_MOVING = {"page": "page", "offset": "offset", "cursor": "startingAfterId"}
# The page size parameter of each style, and its size when neither caller nor catalog says.
_SIZE = {"page": ("perPage", 100), "offset": ("limit", 1000), "cursor": ("limit", 100)}
# Where a model keeps its pager: in its ``__pydantic_private__`` dict, beside the response
# (see ``models/_base.py`` for why these are not declared pydantic private attributes).
_KEY = "_losant_pager"


def page_items(page: Any) -> list[Any]:
    """The items of one page (``[]`` when the page has none)."""
    items = read(page, "items")
    return items if isinstance(items, list) else []


def _fingerprint(page: Any) -> int | None:
    """What tells two pages apart cheaply: a digest of their item ids (see ``_seen``)."""
    return fingerprint(page_items(page), read, lambda: _raw_items(page))


def _raw_items(page: Any) -> Any:
    """A page's items as the API sent them (for items without ids)."""
    if isinstance(page, Mapping):
        return page.get("items")
    raw_json = getattr(page, "raw_json", None)
    decoded = raw_json() if raw_json is not None else None
    return decoded.get("items") if isinstance(decoded, Mapping) else repr(page_items(page))


def walk_guard(first: Any, start: Mapping[str, Any]) -> Seen:
    """The cycle guard of a walk starting with the page ``first``, asked for at ``start``."""
    seen = Seen()
    seen.add_page(_fingerprint(first))
    seen.add_position(start)
    return seen


class Pager:
    """How to get the pages after one page: the encoded call that produced it, and its style."""

    __slots__ = ("pipeline", "call", "style")

    def __init__(self, pipeline: PipelineBase, call: WireCall) -> None:
        self.pipeline = pipeline
        self.call = call
        endpoint = call.endpoint
        self.style: str = (endpoint.pagination if endpoint is not None else None) or ""

    @property
    def endpoint_id(self) -> str:
        return self.call.endpoint.id if self.call.endpoint is not None else self.call.path

    def __repr__(self) -> str:
        return f"<Pager {self.endpoint_id} style={self.style} {self.start()}>"

    # A pager is never changed after it is made: copies of a result share it. It refers to
    # the pipeline (session, lock), so a pickled result loses it and iterates its own items.
    def __copy__(self) -> Pager:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Pager:
        return self

    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return _no_pager, ()

    def _size(self) -> int:
        """The page size asked for: the caller's, else the catalog's default."""
        name, fallback = _SIZE[self.style]
        endpoint = self.call.endpoint
        param = endpoint.keyword_params.get(name) if endpoint is not None else None
        default = param.default if param is not None else None
        return int_or(self.call.query_value(name), int_or(default, fallback))

    def start(self) -> dict[str, Any]:
        """Where the page this pager came with starts, as the moving parameter."""
        if self.style == "page":
            return {"page": int_or(self.call.query_value("page"), 0)}
        if self.style == "offset":
            return {"offset": int_or(self.call.query_value("offset"), 0)}
        cursor = self.call.query_value("startingAfterId")
        return {"startingAfterId": cursor} if cursor is not None else {}

    def _invalid(self, page: Any, why: str) -> InvalidResponseError:
        response = getattr(page, "http_response", lambda: None)()
        return InvalidResponseError(
            f"{self.call.method} {self.call.path}: {why}; stopping here would silently "
            "lose items", response)

    def after(self, page: Any, position: Mapping[str, Any]) -> dict[str, Any] | None:
        """Where the page after ``page`` (requested at ``position``) starts; None at the end.

        Raises ``InvalidResponseError`` when the page contradicts the walk so far.
        """
        items = page_items(page)
        count = len(items)
        if self.style == "cursor":
            has_more = read(page, "hasMore")
            if count == 0:
                if has_more is True:
                    raise self._invalid(page, "an empty page says hasMore=true")
                return None
            if has_more is False or (has_more is None and count < self._size()):
                return None
            last = items[-1]
            cursor = read(last, "id") or read(last, "instanceSandboxId")
            if cursor is None:
                raise LosantError(
                    f"{self.endpoint_id}: cannot ask for the next page, the last item has no id"
                )
            if cursor == position.get("startingAfterId"):
                raise self._invalid(page, f"the cursor did not move (still {cursor!r})")
            return {"startingAfterId": cursor}
        total = read(page, "totalCount")
        total = total if isinstance(total, int) and not isinstance(total, bool) else None
        name = "perPage" if self.style == "page" else "limit"
        size = int_or(read(page, name), self._size())
        if self.style == "page":
            number = int_or(position.get("page"), 0)
            before = number * size
            following: dict[str, Any] = {"page": number + 1}
        else:
            before = int_or(position.get("offset"), 0)
            following = {"offset": before + count}
        reached = before + count
        if total is not None and reached < total and (count == 0 or count < size):
            raise self._invalid(
                page, f"a page with {count} of {size} items ends at item {reached}, but "
                f"totalCount says {total}")
        if count == 0 or count < size or (total is not None and reached >= total):
            return None
        return following

    def follow(
        self, page: Any, position: Mapping[str, Any], seen: Seen
    ) -> tuple[dict[str, Any] | None, Seen]:
        """Check a newly fetched page and say where the one after it starts.

        ``seen`` (see :func:`walk_guard`) holds every page and position of the walk so far;
        it is returned with the next position. Raises ``InvalidResponseError`` for a page
        that repeats any earlier page, a next position already asked for (a cursor that
        comes back), or a page that contradicts the walk (see :meth:`after`).
        """
        fingerprint = _fingerprint(page)
        if seen.page_seen(fingerprint):
            raise self._invalid(page, f"the page at {dict(position)} repeats an earlier page "
                                "of this walk")
        following = self.after(page, position)
        if following is not None and seen.position_seen(following):
            raise self._invalid(page, f"the next position {following} was already asked for "
                                "in this walk (the pages loop)")
        seen.add_page(fingerprint)
        seen.add_position(following)
        return following, seen

    def _moved(self, position: Mapping[str, Any]) -> WireCall:
        call = self.call
        for name, value in position.items():
            call = call.with_query(name, query_text(value, name))
        return call

    def fetch(self, position: Mapping[str, Any], raw: bool = False, eager: bool = False) -> Any:
        """Request the page at ``position``: the first call with only the position changed.

        ``raw=True`` gives the decoded JSON (a dict) instead of a model; ``eager=True``
        builds the items' nested objects at once rather than on first read (see
        :data:`NOT_EAGER`).
        """
        return self.decode(*self.send(position), raw=raw, eager=eager)

    def send(self, position: Mapping[str, Any]) -> tuple[WireCall, requests.Response]:
        """The I/O half of :meth:`fetch`: the call sent and its (2xx, fully read) response."""
        call = self._moved(position)
        send = getattr(self.pipeline, "send", None)
        if send is None:  # an AsyncAPI's page: its walk is awaited
            raise TypeError(
                f"{call.method} {call.path}: this page came from an AsyncAPI, whose next "
                "pages are awaited: use `async for` over the verb's result, or "
                "losant_fluent.walk(page) for a page already awaited"
            )
        response: requests.Response = send(call)
        return call, response

    def decode(
        self, call: WireCall, response: requests.Response, raw: bool = False, eager: bool = False
    ) -> Any:
        """The CPU half of :meth:`fetch`: the page read from a response of :meth:`send`."""
        if raw:
            return self.pipeline.decode_json(call, response)
        return decode_page(self.pipeline, call, response, eager)


# Put in a page's ``__pydantic_private__`` when ``eager=True`` could not build its nested
# objects at once (the answer has values only lax validation takes): a walk then stops asking.
NOT_EAGER = "_losant_not_eager"


def _refused_eager(page: Any) -> bool:
    private = getattr(page, "__pydantic_private__", None)
    return isinstance(private, dict) and bool(private.pop(NOT_EAGER, False))


def _no_pager() -> None:
    """What a pickled pager becomes: nothing (see ``Pager.__reduce__``)."""
    return None


def decode_page(pipeline: PipelineBase, call: WireCall, response: requests.Response,
                eager: bool = False) -> Any:
    """A page read from its answer, with the pager that walks the pages after it."""
    result = pipeline.decode(call, response, eager=eager)
    attach_pager(result, Pager(pipeline, call))
    return result


def attach_pager(result: Any, pager: Pager) -> None:
    """Make ``result`` (a page of a paginated endpoint) able to walk the pages after it."""
    private = getattr(result, "__pydantic_private__", None)
    if pager.style in STYLES and isinstance(private, dict):
        private[_KEY] = pager


class _ReadAhead:
    """One page being requested in a background thread.

    Only the I/O happens there (socket reads release the GIL); the page is read into models
    by the consumer, in :meth:`take`: decoding in the background would only contend with
    the consumer's own Python work for the GIL.
    """

    def __init__(self, pager: Pager, position: dict[str, Any]) -> None:
        self.position = position
        self._pager = pager
        self._sent: tuple[WireCall, requests.Response] | None = None
        self._error: Exception | None = None
        self._thread = threading.Thread(
            target=self._run, name="losant-fluent-read-ahead", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        try:
            self._sent = self._pager.send(self.position)
        except Exception as exc:  # handed to the consumer in take()
            self._error = exc

    def take(self, raw: bool, eager: bool) -> Any:
        """Wait for the answer and read the page; raise what the request raised, if it failed."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._sent is not None
        return self._pager.decode(*self._sent, raw=raw, eager=eager)


def _nested_read(item: Any) -> bool:
    """Whether the loop read a nested field (built on first read) of ``item``."""
    nested_read = getattr(item, "_losant_nested_read", None)
    return bool(nested_read()) if nested_read is not None else False


class WalkState:
    """The decisions of a page walk, without I/O: where it is, what the next step is, and
    what a newly fetched page means. :class:`PageWalk` (threads) and ``AsyncPageWalk``
    (``await``) drive it; each holds only how a page is fetched.

    Item walks count what they yielded as the items of the pages before this one plus the
    index in this one (``_before + _index``); page walks count pages in ``_yielded``.
    """

    _pager: Pager | None
    _pages: bool
    _max_items: int | None
    _raw: bool
    _page: Any
    _page_number: int
    _items: list[Any]
    _index: int
    _before: int
    _yielded: int
    _next: dict[str, Any] | None
    _previous: Seen
    _eager: bool
    _eager_refused: bool
    failed_page_number: int | None
    failed_position: dict[str, Any] | None

    def _init_walk(self, pager: Pager | None, *, pages: bool, max_items: int | None,
                   raw: bool) -> None:
        if max_items is not None and max_items < 0:
            raise ValueError("max_items cannot be negative")
        self._pager = pager
        self._pages = pages
        self._max_items = max_items
        self._raw = raw
        self._page = None
        self._page_number = 0
        self._items = []
        self._index = 0
        self._before = 0
        self._yielded = 0
        self._next = None
        self._previous = Seen()  # replaced by _begin
        self._eager = False  # build the next page's nested objects with it (see _to_fetch)
        self._eager_refused = False
        self.failed_page_number = None
        self.failed_position = None

    @property
    def page_number(self) -> int:
        """Index in this walk of the current page (0: the result the walk started from)."""
        return self._page_number

    @property
    def yielded(self) -> int:
        """How many items (or pages) this walk has yielded so far."""
        return self._yielded if self._pages else self._before + self._index

    def _begin(self, first: Any) -> None:
        """Start from the first page (the result itself, or the first answer)."""
        self.failed_page_number = self.failed_position = None
        self._page = first
        self._items = page_items(first)
        pager = self._pager
        self._next = pager.after(first, pager.start()) if pager is not None else None
        self._previous = walk_guard(first, pager.start() if pager is not None else {})

    def _step(self) -> tuple[str, Any]:
        """What an item walk does next: ``("item", item)``, ``("fetch", position)`` or
        ``("done", None)``."""
        if self._max_items is not None and self.yielded >= self._max_items:
            return "done", None
        if self._index < len(self._items):
            item = self._items[self._index]
            self._index += 1
            return "item", item
        if self._next is None:
            return "done", None
        return "fetch", self._next

    def _to_fetch(self) -> dict[str, Any]:
        """Leave the current page for the next: the position to request."""
        assert self._pager is not None and self._next is not None
        if self._index and not self._raw and not self._eager_refused:
            # Nested objects are built on first read; once the loop reads them, building
            # them with the page costs far less than building each item's on read.
            self._eager = _nested_read(self._items[self._index - 1])
        self._page = None  # hold one page at a time
        self._before += self._index
        self._items = []
        self._index = 0
        return self._next

    def _took(self, page: Any, position: Mapping[str, Any]) -> None:
        """Make a fetched page current; ``InvalidResponseError`` when it contradicts the walk
        (raised with nothing advanced: see :meth:`_failed`)."""
        assert self._pager is not None
        following, fingerprint = self._pager.follow(page, position, self._previous)
        self.failed_page_number = self.failed_position = None
        self._previous = fingerprint
        self._page = page
        self._page_number += 1
        self._items = page_items(page)
        self._next = following
        if _refused_eager(page):
            self._eager = False
            self._eager_refused = True

    def _failed(self, err: LosantError, position: Mapping[str, Any], number: int) -> None:
        """Point ``err`` back at this walk: iterating it again retries page ``number``."""
        self.failed_page_number = number
        self.failed_position = dict(position)
        err._walk = self  # type: ignore[assignment]  # both walks are iterators

    def _ahead(self) -> dict[str, Any] | None:
        """The position to read ahead, or None when the next page will not be needed."""
        if self._next is None or self._pager is None:
            return None
        if not self._pages and self._max_items is not None:
            left_here = len(self._items) - self._index
            if self.yielded + left_here >= self._max_items:
                return None
        return self._next


class PageWalk(WalkState, Iterator[Any]):
    """An iterator over the items (or the pages) of a paged result, fetched lazily.

    The next page is requested only when the current one is used up, so at most one page is
    held besides the first (two with ``read_ahead``: the next page is fetched in a background
    thread while the current one is consumed). Breaking out of a loop fetches nothing more.

    When a page fails (after the pipeline's retries), its ``LosantError`` is raised as it
    is, pointing back at this walk: ``err.resume()`` returns the walk, ``err.page_number``
    and ``err.page_params`` read the walk's ``failed_page_number`` (index of the failed page
    in this walk; the first page, the result itself, is 0) and ``failed_position`` (the
    moving parameter sent, e.g. ``{"page": 3}``). Nothing advanced: iterating again retries
    the page and goes on with the first item not yet yielded.
    """

    def __init__(
        self,
        first: Any,
        pager: Pager | None,
        *,
        pages: bool = False,
        max_items: int | None = None,
        read_ahead: bool = False,
        raw: bool = False,
        progress: bool = False,
    ) -> None:
        self._init_walk(pager, pages=pages, max_items=max_items, raw=raw)
        if raw and not isinstance(first, Mapping):
            first = first.raw_json() if hasattr(first, "raw_json") else None
            if not isinstance(first, Mapping):
                raise TypeError("raw=True needs a result read from the API")
        self._bar: Any = None
        if progress:
            from ._progress import progress_bar

            total = read(first, "totalCount")
            total = total if isinstance(total, int) and not isinstance(total, bool) else None
            if pages and total is not None:  # pages from the page size the first page used
                size = int_or(read(first, "perPage") or read(first, "limit"), 0)
                total = -(-total // size) if size > 0 else None
            self._bar = progress_bar(
                total=total,
                unit="pages" if pages else "items",
                desc=pager.endpoint_id if pager is not None else None,
            )
        self._read_ahead = read_ahead
        self._ahead_page: _ReadAhead | None = None
        self._started = False
        # Items of this page that ``__next__`` may hand out with no other check (0 when a
        # limit or page walk needs the checks): the loop of a data script over 100,000
        # items stays a few attribute reads per item.
        self._fast_end = 0
        self._begin(first)

    def __repr__(self) -> str:
        what = "pages" if self._pages else "items"
        return f"<PageWalk of {what}: page {self._page_number}, {self.yielded} yielded>"

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> Any:
        index = self._index
        if index < self._fast_end:
            self._index = index + 1
            return self._items[index]
        return self._next_checked()

    def _next_checked(self) -> Any:
        if not self._started:
            self._started = True
            self._count_page()
            self._read_on()
            self._set_fast_end()
            if self._pages:
                self._yielded += 1
                return self._page
        if self._pages:
            if self._next is None:
                self._finish()
                raise StopIteration
            self._advance()
            self._yielded += 1
            return self._page
        while True:
            step, value = self._step()
            if step == "item":
                return value
            if step == "done":
                if self._next is not None:  # stopped by max_items
                    self.close()
                self._finish()
                raise StopIteration
            self._advance()

    def _set_fast_end(self) -> None:
        unchecked = not self._pages and self._max_items is None
        self._fast_end = len(self._items) if unchecked else 0

    def _advance(self) -> None:
        """Make the next page current; on failure raise with nothing advanced."""
        assert self._pager is not None
        position = self._to_fetch()
        self._fast_end = 0
        ahead, self._ahead_page = self._ahead_page, None
        try:
            if ahead is not None and ahead.position == position:
                page = ahead.take(self._raw, self._eager)
            else:
                page = self._pager.fetch(position, self._raw, self._eager)
            self._took(page, position)
        except LosantError as err:
            self._failed(err, position, self._page_number + 1)
            raise
        except KeyboardInterrupt:  # Ctrl-C: end the bar's line before the traceback
            self._finish()
            raise
        self._count_page()
        self._read_on()
        self._set_fast_end()

    def _read_on(self) -> None:
        """With read-ahead, start fetching the next page unless it will not be needed."""
        position = self._ahead() if self._read_ahead else None
        if position is not None:
            assert self._pager is not None
            self._ahead_page = _ReadAhead(self._pager, position)

    def close(self) -> None:
        """Stop the walk: a page being read ahead is dropped when it arrives."""
        self._ahead_page = None
        self._next = None

    def _count_page(self) -> None:
        """Move the progress bar on by the page that just became current."""
        if self._bar is not None:
            self._bar.update(1 if self._pages else len(self._items))

    def _finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def pager_of(result: Any) -> Pager | None:
    """The pager a page was given (None: built by hand, unpickled, or not a page)."""
    private = getattr(result, "__pydantic_private__", None)
    pager = private.get(_KEY) if isinstance(private, dict) else None
    return pager if isinstance(pager, Pager) else None
