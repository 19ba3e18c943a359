"""The API's three pagination styles applied to an already filtered, sorted list."""

from __future__ import annotations

from typing import Any

from ._context import Ctx
from ._errors import validation

MAX_PER_PAGE = 1000


def by_page(ctx: Ctx, items: list[dict[str, Any]]) -> dict[str, Any]:
    """``page`` (0-based) and ``perPage``: answers ``totalCount``, ``count``, ``page``,
    ``perPage`` and ``items``."""
    default = int(ctx.default_of("perPage", 100))
    per_page = ctx.int_arg("perPage", default, minimum=1, maximum=MAX_PER_PAGE)
    page = ctx.int_arg("page", int(ctx.default_of("page", 0)))
    chunk = items[page * per_page : (page + 1) * per_page]
    return {
        "items": chunk,
        "count": len(chunk),
        "totalCount": len(items),
        "perPage": per_page,
        "page": page,
    }


def by_offset(ctx: Ctx, items: list[dict[str, Any]], default_limit: int = 1000) -> dict[str, Any]:
    """``limit``/``offset``: ``totalCount``, ``count``, ``limit``, ``offset``, ``items``."""
    limit = ctx.int_arg("limit", int(ctx.default_of("limit", default_limit)), maximum=10000)
    offset = ctx.int_arg("offset", int(ctx.default_of("offset", 0)))
    chunk = items[offset : offset + limit]
    return {
        "items": chunk,
        "count": len(chunk),
        "totalCount": len(items),
        "limit": limit,
        "offset": offset,
    }


def by_cursor(ctx: Ctx, items: list[dict[str, Any]]) -> dict[str, Any]:
    """``startingAfterId``/``endingBeforeId`` with ``limit``: ``hasMore``, ``count``, ``items``."""
    limit = ctx.int_arg("limit", int(ctx.default_of("limit", 100)), minimum=1, maximum=MAX_PER_PAGE)
    ids = [str(item.get("id")) for item in items]
    after = ctx.query.get("startingAfterId")
    before = ctx.query.get("endingBeforeId")
    out: dict[str, Any] = {"limit": limit}
    if after:
        if after not in ids:
            raise validation("startingAfterId does not name an item of this list")
        rest = items[ids.index(after) + 1 :]
        chunk, has_more = rest[:limit], len(rest) > limit
        out["startingAfterId"] = after
    elif before:
        if before not in ids:
            raise validation("endingBeforeId does not name an item of this list")
        rest = items[: ids.index(before)]
        chunk, has_more = rest[-limit:], len(rest) > limit
        out["endingBeforeId"] = before
    else:
        chunk, has_more = items[:limit], len(items) > limit
    out.update({"items": chunk, "count": len(chunk), "hasMore": has_more})
    return out


def paginate(ctx: Ctx, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Apply the endpoint's pagination style (per the catalog); no style: every item."""
    style = ctx.endpoint.pagination
    if style == "page":
        return by_page(ctx, items)
    if style == "offset":
        return by_offset(ctx, items)
    if style == "cursor":
        return by_cursor(ctx, items)
    return {"items": items, "count": len(items), "totalCount": len(items)}
