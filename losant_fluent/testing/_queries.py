"""Filtering and sorting: name globbing, bracket-form query strings and Losant's
advanced query language (``$and``, ``$or``, ``$nor``, ``$eq``, ``$ne``, ``$gt``, ``$gte``,
``$lt``, ``$lte``, ``$in``, ``$nin``, ``$startsWith``, ``$endsWith``, ``$contains`` with
``$ci`` for case-insensitive string matching)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.datastructures import MultiDict

from ._errors import validation
from ._ids import parse_time

Getter = Callable[[dict[str, Any], str], Any]
_MISSING = object()


def glob_match(pattern: str, value: object) -> bool:
    """Case-insensitive whole-value match where ``*`` stands for any run of characters.

    A pattern without ``*`` must equal the value (ignoring case); an empty pattern
    matches everything.
    """
    if pattern == "":
        return True
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, str(value), flags=re.IGNORECASE | re.DOTALL) is not None


_BRACKET = re.compile(r"\[([^\]]*)\]")


def parse_brackets(query: MultiDict[str, str], name: str) -> Any:
    """Rebuild a structured parameter sent in bracket form (``tagFilter[0][key]=k``).

    Returns ``None`` when the parameter is absent, the plain string (or list, when
    repeated) for the unbracketed form, otherwise nested dicts, with dicts whose keys are
    all digits turned into lists.
    """
    root: dict[str, Any] = {}
    found = False
    for key, value in query.items(multi=True):
        if key == name:
            found = True
            values = query.getlist(name)
            return values[0] if len(values) == 1 else values
        if not key.startswith(name + "["):
            continue
        found = True
        parts = _BRACKET.findall(key[len(name) :])
        node = root
        for index, part in enumerate(parts):
            part = part or str(len(node))
            if index == len(parts) - 1:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _listify(root) if found else None


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {k: _listify(v) for k, v in node.items()}
    if items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


def json_param(query: MultiDict[str, str], name: str) -> Any:
    """A query parameter sent as JSON text (``query={"name": "x"}``); 400 if not JSON."""
    raw = query.get(name)
    if raw is None or raw == "":
        structured = parse_brackets(query, name)
        return structured if isinstance(structured, (dict, list)) else None
    try:
        return json.loads(raw)
    except ValueError:
        raise validation(f"{name} must be valid JSON") from None


def _comparable(left: Any, right: Any) -> tuple[Any, Any] | None:
    if isinstance(left, bool) or isinstance(right, bool):
        return (left, right) if isinstance(left, bool) and isinstance(right, bool) else None
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return left, right
    if isinstance(left, (int, float)) and isinstance(right, str):
        other = _number(right)
        return None if other is None else (left, other)
    if isinstance(left, str) and isinstance(right, (int, float)):
        other = _number(left)
        return None if other is None else (other, right)
    if isinstance(left, str) and isinstance(right, str):
        return left, right
    return None


def _number(text: str) -> float | None:
    """A string as a number: numeric text, or an ISO date as epoch milliseconds."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return float(parse_time(text))
    except ValueError:
        return None


def _equal(left: Any, right: Any, ci: bool = False) -> bool:
    if left is None or right is None:
        return left is right
    if ci and isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    pair = _comparable(left, right)
    return pair is not None and pair[0] == pair[1]


def _compare(left: Any, op: str, right: Any) -> bool:
    pair = _comparable(left, right)
    if pair is None:
        return False
    a, b = pair
    if op == "$gt":
        return bool(a > b)
    if op == "$gte":
        return bool(a >= b)
    if op == "$lt":
        return bool(a < b)
    return bool(a <= b)


def _values(value: Any) -> list[Any]:
    """A document field's values: lists match when any element matches."""
    if isinstance(value, list):
        return value
    return [value]


def match_condition(value: Any, condition: Any) -> bool:
    """Does a field value satisfy one condition (a literal or an operator object)?"""
    candidates = _values(None if value is _MISSING else value)
    if not isinstance(condition, dict):
        return any(_equal(v, condition) for v in candidates)
    ci = bool(condition.get("$ci"))
    for op, arg in condition.items():
        if op == "$ci":
            continue
        if op == "$eq":
            ok = any(_equal(v, arg, ci) for v in candidates)
        elif op == "$ne":
            ok = not any(_equal(v, arg, ci) for v in candidates)
        elif op in ("$gt", "$gte", "$lt", "$lte"):
            ok = any(_compare(v, op, arg) for v in candidates)
        elif op == "$in":
            ok = any(_equal(v, a, ci) for v in candidates for a in _as_list(arg))
        elif op == "$nin":
            ok = not any(_equal(v, a, ci) for v in candidates for a in _as_list(arg))
        elif op in ("$startsWith", "$endsWith", "$contains"):
            ok = any(_string_op(v, op, arg, ci) for v in candidates)
        else:
            raise validation(f"Unsupported query operator {op}")
        if not ok:
            return False
    return True


def _as_list(arg: Any) -> list[Any]:
    if not isinstance(arg, list):
        raise validation("$in and $nin take an array")
    return arg


def _string_op(value: Any, op: str, arg: Any, ci: bool) -> bool:
    if not isinstance(value, str) or not isinstance(arg, str):
        return False
    if ci:
        value, arg = value.lower(), arg.lower()
    text, part = str(value), str(arg)
    if op == "$startsWith":
        return text.startswith(part)
    if op == "$endsWith":
        return text.endswith(part)
    return part in text


def plain_get(doc: dict[str, Any], field: str) -> Any:
    """Field lookup for plain documents (data table rows, events): dotted paths allowed."""
    node: Any = doc
    for part in field.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


Special = dict[str, Callable[[dict[str, Any], Any], bool]]


def matches(
    doc: dict[str, Any],
    query: Any,
    getter: Getter = plain_get,
    special: Special | None = None,
) -> bool:
    """Evaluate an advanced query against one document.

    ``getter`` reads a field; ``special`` maps field names whose conditions have their
    own grammar (device ``tags``) to a function deciding the match.
    """
    if query is None:
        return True
    if not isinstance(query, dict):
        raise validation("A query must be a JSON object")
    for key, condition in query.items():
        if key in ("$and", "$or", "$nor"):
            if not isinstance(condition, list):
                raise validation(f"{key} takes an array of queries")
            results = (matches(doc, sub, getter, special) for sub in condition)
            ok = (
                all(results)
                if key == "$and"
                else any(results)
                if key == "$or"
                else not any(results)
            )
        elif special and key in special:
            ok = special[key](doc, condition)
        else:
            ok = match_condition(getter(doc, key), condition)
        if not ok:
            return False
    return True


def missing() -> object:
    """The sentinel a getter returns for an absent field."""
    return _MISSING


def sort_docs(
    docs: Iterable[dict[str, Any]], field: str, direction: str, getter: Getter = plain_get
) -> list[dict[str, Any]]:
    """Sort documents by one field (``asc``/``desc``); absent values sort first."""

    def key(doc: dict[str, Any]) -> tuple[int, Any]:
        value = getter(doc, field)
        if value is _MISSING or value is None:
            return (0, "")
        if isinstance(value, bool):
            return (1, int(value))
        if isinstance(value, (int, float)):
            return (1, value)
        return (2, str(value).lower())

    return sorted(docs, key=key, reverse=direction.lower() == "desc")
