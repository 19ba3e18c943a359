"""The walk-cycle guard: every page and position a page walk met, so that it never loops.

A server whose cursor comes back to an earlier page (A, B, A...) with ``hasMore`` always
true, or whose pages alternate without a ``totalCount``, would keep a walk going forever.
:class:`Seen` remembers a small fingerprint of every page of a walk (a 64-bit digest
of its size and first and last item ids, or of its items' JSON when they have no ids)
and every position asked for (``{"startingAfterId": ...}``, ``{"page": 3}``): a walk
meeting one again raises ``InvalidResponseError``. Memory stays bounded: a few dozen
bytes per page, never the page, and at most :data:`MAX_REMEMBERED` of each (a walk
longer than that is still checked against the pages remembered).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["MAX_REMEMBERED", "Seen", "fingerprint"]

#: Pages (and positions) a walk remembers at most: 16 MB or so of digests.
MAX_REMEMBERED = 200_000


def _digest(value: Any) -> int:
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def fingerprint(items: list[Any], read: Callable[[Any, str], Any],
                raw_items: Callable[[], Any]) -> int | None:
    """A digest telling one page's items from another's (``None`` for an empty page).

    ``read(item, "id")`` gives an item's id; items without ids are told apart by their JSON
    (``raw_items()``), which costs a pass over the page but only for such endpoints.
    """
    if not items:
        return None
    # The size and the first and last ids tell pages apart (ids are unique in a
    # collection) at the cost of two reads, whatever the page size.
    key = (len(items), read(items[0], "id"), read(items[-1], "id"))
    if key[1] is None and key[2] is None:
        return _digest(["json", raw_items()])
    try:  # the walk lives in one process: Python's own 64-bit hash is enough, and fast
        return hash(key)
    except TypeError:  # ids that are not text
        return _digest(["ids", key])


class Seen:
    """The fingerprints of the pages and the positions of one walk (see the module doc)."""

    __slots__ = ("_pages", "_positions")

    def __init__(self) -> None:
        self._pages: set[int] = set()
        self._positions: set[int] = set()

    def __repr__(self) -> str:
        return f"<Seen {len(self._pages)} pages, {len(self._positions)} positions>"

    def page_seen(self, page: int | None) -> bool:
        return page is not None and page in self._pages

    def add_page(self, page: int | None) -> None:
        if page is not None and len(self._pages) < MAX_REMEMBERED:
            self._pages.add(page)

    def position_seen(self, position: Mapping[str, Any] | None) -> bool:
        return position is not None and _digest(dict(position)) in self._positions

    def add_position(self, position: Mapping[str, Any] | None) -> None:
        if position is not None and len(self._positions) < MAX_REMEMBERED:
            self._positions.add(_digest(dict(position)))
