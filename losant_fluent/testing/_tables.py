"""Data tables and their rows, with column typing, constraints, advanced queries and
limit/offset pagination."""

from __future__ import annotations

import copy
import math
import re
from typing import Any

from ._context import Ctx, Reply, handles, require
from ._errors import not_found, validation
from ._ids import new_id, now_iso
from ._pagination import by_offset
from ._queries import check_query, matches, sort_docs
from ._store import DATA_TABLES, Doc

_NAME = re.compile(r"^[0-9a-zA-Z_-]{1,255}$")
_TYPES = ("string", "number", "boolean")
_CONSTRAINTS = ("unique", "required", "optional")


def _table(ctx: Ctx) -> Doc:
    doc = ctx.store.find(DATA_TABLES, (ctx.app_id,), ctx.args["dataTableId"])
    if doc is None:
        raise not_found("Data table")
    return doc


def _rows(ctx: Ctx) -> dict[str, Doc]:
    return ctx.store.rows.setdefault(ctx.args["dataTableId"], {})


def _check_column(column: Any) -> Doc:
    if not isinstance(column, dict) or not _NAME.match(str(column.get("name", ""))):
        raise validation("each column needs a name of letters, digits, _ or -")
    if column.get("dataType") not in _TYPES:
        raise validation(f"column {column['name']}: dataType must be one of {_TYPES}")
    constraint = column.get("constraint", "optional")
    if constraint not in _CONSTRAINTS:
        raise validation(f"column {column['name']}: constraint must be one of {_CONSTRAINTS}")
    return {**column, "constraint": constraint}


def _check_columns(columns: Any) -> list[Doc]:
    if not isinstance(columns, list):
        raise validation("columns must be an array")
    checked = [_check_column(c) for c in columns]
    names = [c["name"] for c in checked]
    if len(set(names)) != len(names):
        raise validation("column names must be unique")
    return checked


def _cast(column: Doc, value: Any) -> Any:
    """A row value in its column's type (a row value is a string, number, boolean or null)."""
    if value is None:
        return None
    kind = column["dataType"]
    if not isinstance(value, (str, int, float, bool)):
        raise validation(f"{column['name']} must be a {kind}, not an array or object")
    if kind == "number":
        if isinstance(value, bool):
            raise validation(f"{column['name']} must be a number")
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise validation(f"{column['name']} must be a number") from None
        if not math.isfinite(value):
            raise validation(f"{column['name']} must be a finite number")
        return value
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        flag = {"true": True, "false": False}.get(str(value).lower())
        if flag is None:
            raise validation(f"{column['name']} must be a boolean")
        return flag
    return value if isinstance(value, str) else str(value)


def _build_row(table: Doc, values: Any, existing: dict[str, Doc], old: Doc | None) -> Doc:
    if not isinstance(values, dict):
        raise validation("a row must be a JSON object")
    row: Doc = copy.deepcopy(old) if old else {}
    for column in table.get("columns", []):
        name = column["name"]
        if name in values:
            row[name] = _cast(column, values[name])
        elif old is None and "defaultValue" in column:
            row[name] = column["defaultValue"]
        if column["constraint"] in ("required", "unique") and row.get(name) is None:
            raise validation(f"{name} is required")
        if column["constraint"] == "unique":
            for other in existing.values():
                if other.get("id") != row.get("id") and other.get(name) == row.get(name):
                    raise validation(f"{name} must be unique; {row.get(name)!r} is taken")
    return row


@handles("dataTables.post")
def post_table(ctx: Ctx) -> Reply:
    """Create a data table from a name and columns."""
    body = ctx.body_dict()
    require(body, "name")
    doc = {"name": body["name"], "columns": _check_columns(body.get("columns", []))}
    if "description" in body:
        doc["description"] = body["description"]
    with ctx.store.lock:
        stored = ctx.store.insert(
            DATA_TABLES,
            (ctx.app_id,),
            doc,
            id_field="dataTableId",
        )
    return 201, copy.deepcopy(stored)


@handles("dataTable.delete")
def delete_table(ctx: Ctx) -> Reply:
    """Remove a data table and its rows."""
    with ctx.store.lock:
        table = _table(ctx)
        ctx.store.collection(DATA_TABLES, (ctx.app_id,)).pop(table["id"])
        ctx.store.rows.pop(table["id"], None)
    return 200, {"success": True}


@handles("dataTable.addColumn")
def add_column(ctx: Ctx) -> Reply:
    """Add a column; existing rows take its default value."""
    column = _check_column(ctx.body_dict())
    with ctx.store.lock:
        table = _table(ctx)
        columns = _check_columns([*table.get("columns", []), column])
        if column["constraint"] != "optional" and _rows(ctx) and "defaultValue" not in column:
            raise validation("a required column added to a table with rows needs a defaultValue")
        for row in _rows(ctx).values():
            row[column["name"]] = column.get("defaultValue")
        table["columns"] = columns
        table["lastUpdated"] = now_iso()
        return 200, copy.deepcopy(table)


@handles("dataTable.removeColumn")
def remove_column(ctx: Ctx) -> Reply:
    """Drop a column (query ``columnName``) and its values."""
    name = ctx.query.get("columnName")
    if not name:
        raise validation("columnName is required")
    with ctx.store.lock:
        table = _table(ctx)
        if not any(c["name"] == name for c in table.get("columns", [])):
            raise not_found("Column")
        table["columns"] = [c for c in table["columns"] if c["name"] != name]
        for row in _rows(ctx).values():
            row.pop(name, None)
        table["lastUpdated"] = now_iso()
        return 200, copy.deepcopy(table)


def _listing(ctx: Ctx, query: Any) -> Reply:
    # Without sortColumn rows come in insertion order (Losant sorts by the ObjectId).
    sort_column = ctx.query.get("sortColumn") or "id"
    direction = ctx.query.get("sortDirection") or "asc"
    if direction.lower() not in ("asc", "desc"):
        raise validation("sortDirection must be asc or desc")
    fields = [f for f in (ctx.query.get("includeFields") or "").split(",") if f]
    with ctx.store.lock:
        table = _table(ctx)
        rows = [copy.deepcopy(r) for r in _rows(ctx).values() if matches(r, query)]
    if sort_column == "id":
        if direction.lower() == "desc":
            rows.reverse()
    else:
        rows = sort_docs(rows, sort_column, direction)
    out = by_offset(ctx, rows)
    if fields:
        keep = {"id", *fields}
        out["items"] = [{k: v for k, v in r.items() if k in keep} for r in out["items"]]
    out.update(
        dataTableId=table["id"],
        applicationId=ctx.app_id,
        sortColumn=sort_column,
        sortDirection=direction,
    )
    if query is not None:
        out["query"] = query
    return 200, out


@handles("dataTableRows.get")
def list_rows(ctx: Ctx) -> Reply:
    """Rows in ``limit``/``offset`` pages, sorted by ``sortColumn``."""
    return _listing(ctx, None)


@handles("dataTableRows.query")
def query_rows(ctx: Ctx) -> Reply:
    """Rows matching the advanced query in the body."""
    query = ctx.body if ctx.body not in (None, {}) else None
    return _listing(ctx, check_query(query) if query is not None else None)


@handles("dataTableRows.post")
def insert_rows(ctx: Ctx) -> Reply:
    """Insert one row (answered with the row) or a list (answered with the new ids)."""
    many = isinstance(ctx.body, list)
    values = ctx.body if many else [ctx.body_dict()]
    with ctx.store.lock:
        table = _table(ctx)
        rows = _rows(ctx)
        staged: dict[str, Doc] = dict(rows)
        created = []
        stamp = now_iso()
        for value in values:
            row = _build_row(table, value, staged, None)
            row.update(id=new_id(), createdAt=stamp, updatedAt=stamp)
            staged[row["id"]] = row
            created.append(row)
        rows.update({row["id"]: row for row in created})
    if many:
        return 201, {
            "createdAt": stamp,
            "count": len(created),
            "rowIds": [r["id"] for r in created],
        }
    return 201, copy.deepcopy(created[0])


@handles("dataTableRows.delete")
def delete_rows(ctx: Ctx) -> Reply:
    """Delete the rows matching the body's query (at most ``limit``)."""
    query = ctx.body if ctx.body not in (None, {}) else None
    if query is not None:
        check_query(query)
    limit = ctx.int_arg("limit", int(ctx.default_of("limit", 1000)))
    with ctx.store.lock:
        _table(ctx)
        rows = _rows(ctx)
        doomed = [rid for rid, row in rows.items() if matches(row, query)][:limit]
        for rid in doomed:
            del rows[rid]
    return 200, {"removed": len(doomed)}


@handles("dataTableRows.truncate")
def truncate_rows(ctx: Ctx) -> Reply:
    """Delete every row."""
    with ctx.store.lock:
        _table(ctx)
        _rows(ctx).clear()
    return 200, {"success": True}


def _row(ctx: Ctx) -> Doc:
    row = _rows(ctx).get(ctx.args["rowId"])
    if row is None:
        raise not_found("Data table row")
    return row


@handles("dataTableRow.get")
def get_row(ctx: Ctx) -> Reply:
    """One row."""
    with ctx.store.lock:
        _table(ctx)
        return 200, copy.deepcopy(_row(ctx))


@handles("dataTableRow.patch")
def patch_row(ctx: Ctx) -> Reply:
    """Change some of a row's values."""
    with ctx.store.lock:
        table = _table(ctx)
        old = _row(ctx)
        row = _build_row(table, ctx.body_dict(), _rows(ctx), old)
        row["updatedAt"] = now_iso()
        old.clear()
        old.update(row)
        return 200, copy.deepcopy(old)


@handles("dataTableRow.delete")
def delete_row(ctx: Ctx) -> Reply:
    """Delete one row."""
    with ctx.store.lock:
        _table(ctx)
        del _rows(ctx)[_row(ctx)["id"]]
    return 200, {"success": True}
