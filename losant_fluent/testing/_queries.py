"""Filtering and sorting: name globbing, bracket-form query strings and Losant's
advanced query language (``$and``, ``$or``, ``$nor``, ``$eq``, ``$ne``, ``$gt``, ``$gte``,
``$lt``, ``$lte``, ``$in``, ``$nin``, ``$startsWith``, ``$endsWith``, ``$contains`` with
``$ci`` for case-insensitive string matching).

Queries are checked once (:func:`check_query`) before they are matched: unknown
operators, wrong operand types and nesting beyond :data:`MAX_QUERY_DEPTH` answer 400."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.datastructures import MultiDict

from ._errors import validation
from ._ids import parse_time
from ._json import MAX_DEPTH, loads

Getter = Callable[[dict[str, Any], str], Any]
_MISSING = object()


def glob_match(pattern: str, value: object) -> bool:
    """Case-insensitive whole-value match where ``*`` stands for any run of characters.

    A pattern without ``*`` must equal the value (ignoring case); an empty pattern
    matches everything.
    """
    if pattern == "":
        return True
    # Segment by segment rather than a regex: ``*`` runs cannot make it backtrack.
    parts = pattern.casefold().split("*")
    text = str(value).casefold()
    if len(parts) == 1:
        return text == parts[0]
    first, *middle, last = parts
    if len(text) < len(first) + len(last) or not text.startswith(first):
        return False
    if not text.endswith(last):
        return False
    position, stop = len(first), len(text) - len(last)
    for part in middle:
        found = text.find(part, position, stop)
        if found < 0:
            return False
        position = found + len(part)
    return True


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
        if len(parts) > MAX_DEPTH:
            raise validation(f"{name} is nested more than {MAX_DEPTH} levels deep")
        node = root
        for index, part in enumerate(parts):
            part = part or str(len(node))
            if index == len(parts) - 1:
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):  # a[b]=1 and a[b][c]=2 both sent
                    raise validation(f"{name} has conflicting entries for {key}")
                node = child
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
    return loads(raw, name)


# -- checking a query before it is used ---------------------------------------------------

# How deeply ``$and``/``$or``/``$nor`` may nest. The API's schemas set no limit (Losant's
# real one is unknown); 32 levels is far more than any hand-written query needs.
MAX_QUERY_DEPTH = 32
# The schemas' ``maxItems`` for ``$and``/``$or``/``$nor`` and ``$in``/``$nin`` arrays.
MAX_QUERY_ITEMS = 100
LOGICAL = ("$and", "$or", "$nor")
OPERATORS = (
    "$eq",
    "$ne",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$in",
    "$nin",
    "$startsWith",
    "$endsWith",
    "$contains",
    "$ci",
)
_FIELD = re.compile(r"^[0-9a-zA-Z_-]{1,255}$")
_SCALARS = (str, int, float, bool)

Checker = Callable[[Any], None]


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, _SCALARS)


def check_condition(field: str, condition: Any) -> None:
    """400 unless ``condition`` is a literal or an object of known operators (schema
    ``advancedQuery``)."""
    if not isinstance(condition, dict):
        if not _scalar(condition):
            raise validation(
                f"query field {field} takes a string, number, boolean, null or operator object"
            )
        return
    if not condition:
        raise validation(f"query field {field} has an empty operator object")
    for op, arg in condition.items():
        if op not in OPERATORS:
            raise validation(f"Unknown query operator {op} (query field {field})")
        if op in ("$in", "$nin"):
            if not isinstance(arg, list) or len(arg) > MAX_QUERY_ITEMS:
                raise validation(f"{op} takes an array of at most {MAX_QUERY_ITEMS} values")
            if not all(isinstance(item, _SCALARS) for item in arg):
                raise validation(f"{op} takes strings, numbers or booleans")
        elif op in ("$startsWith", "$endsWith", "$contains"):
            if not isinstance(arg, str) or not arg:
                raise validation(f"{op} takes a non-empty string")
        elif op == "$ci":
            if not isinstance(arg, bool):
                raise validation("$ci takes a boolean")
        elif not _scalar(arg):
            raise validation(f"{op} takes a string, number, boolean or null")


def check_query(
    query: Any,
    fields: Iterable[str] | None = None,
    special: dict[str, Checker] | None = None,
) -> Any:
    """Validate an advanced query once, before any document is matched; returns it.

    Refuses (400) a query that is not an object, ``$and``/``$or``/``$nor`` that are not
    arrays of at most 100 queries or nest more than :data:`MAX_QUERY_DEPTH` levels,
    unknown ``$`` operators, and fields outside ``fields`` when that is given (the
    device and event queries have a fixed field list). ``special`` checks the
    conditions of fields with their own grammar (device ``tags``).
    """
    allowed = frozenset(fields) if fields is not None else None
    pending: list[tuple[Any, int]] = [(query, 1)]
    while pending:
        node, level = pending.pop()
        if level > MAX_QUERY_DEPTH:
            raise validation(f"the query nests more than {MAX_QUERY_DEPTH} levels of $and/$or/$nor")
        if not isinstance(node, dict):
            raise validation("A query must be a JSON object")
        for key, condition in node.items():
            if key in LOGICAL:
                if not isinstance(condition, list) or len(condition) > MAX_QUERY_ITEMS:
                    raise validation(f"{key} takes an array of at most {MAX_QUERY_ITEMS} queries")
                pending.extend((sub, level + 1) for sub in condition)
            elif key.startswith("$"):
                raise validation(f"Unknown query operator {key}")
            elif allowed is not None and key not in allowed:
                raise validation(f"Unknown query field {key}")
            elif allowed is None and not _FIELD.match(key):
                raise validation(f"query field names are letters, digits, _ or -, not {key!r}")
            elif special and key in special:
                special[key](condition)
            else:
                check_condition(key, condition)
    return query


# -- tag conditions (device ``tags``, event ``eventTags``) ---------------------------------

_TAG_SELECTORS = ("$tagKey", "$tagValue")


def _check_tag_value(where: str, value: Any) -> None:
    if value is None or (isinstance(value, str) and len(value) <= 255):
        return
    if isinstance(value, dict) and len(value) == 1:
        ((op, arg),) = value.items()
        if op not in ("$in", "$nin"):
            raise validation(f"Unknown query operator {op} in {where}")
        if (
            isinstance(arg, list)
            and len(arg) <= MAX_QUERY_ITEMS
            and all(isinstance(item, str) for item in arg)
        ):
            return
        raise validation(f"{op} in {where} takes an array of at most {MAX_QUERY_ITEMS} strings")
    raise validation(f"{where} takes a string, null, {{$in: [...]}} or {{$nin: [...]}}")


def check_tags(condition: Any, nested: bool = False) -> None:
    """400 unless ``condition`` follows the tag grammar of the device and event queries."""
    if condition is None:
        return
    if not isinstance(condition, dict) or not condition:
        raise validation("a tags condition must be null or a non-empty object")
    if not nested and len(condition) == 1 and next(iter(condition)) in ("$eq", "$ne"):
        check_tags(next(iter(condition.values())), nested=True)
        return
    if any(key in _TAG_SELECTORS for key in condition):
        for key, value in condition.items():
            if key not in _TAG_SELECTORS:
                raise validation(f"Unknown query operator {key} beside $tagKey/$tagValue")
            _check_tag_value(key, value)
        return
    for key, value in condition.items():
        if key.startswith("$"):
            raise validation(f"Unknown query operator {key} in a tags condition")
        if not _FIELD.match(key):
            raise validation(f"tag keys are letters, digits, _ or -, not {key!r}")
        _check_tag_value(f"tag {key}", value)


def _tag_ok(value: str | None, condition: Any) -> bool:
    if condition is None:
        return True
    if isinstance(condition, dict):
        if "$in" in condition:
            return value in condition["$in"]
        return value not in condition.get("$nin", [])
    return bool(value == condition)


def tags_match(pairs: list[tuple[str, str]], condition: Any) -> bool:
    """Do ``(key, value)`` tag pairs satisfy a condition checked by :func:`check_tags`?

    ``{"$tagKey": k, "$tagValue": v}`` needs one tag matching both; ``{"k": v}`` needs a
    tag ``k`` with value ``v`` for every pair (``null``: any value); values may be
    ``{"$in": [...]}`` or ``{"$nin": [...]}``; ``{"$eq": c}``/``{"$ne": c}`` wrap a
    condition; ``null`` means "no tags".
    """
    if condition is None:
        return not pairs
    if len(condition) == 1 and "$eq" in condition:
        return tags_match(pairs, condition["$eq"])
    if len(condition) == 1 and "$ne" in condition:
        return not tags_match(pairs, condition["$ne"])
    if any(key in _TAG_SELECTORS for key in condition):
        return any(
            _tag_ok(key, condition.get("$tagKey")) and _tag_ok(value, condition.get("$tagValue"))
            for key, value in pairs
        )
    for key, wanted in condition.items():
        values = [value for tag_key, value in pairs if tag_key == key]
        if isinstance(wanted, dict) and "$nin" in wanted:
            if any(value in wanted["$nin"] for value in values):
                return False
        elif not any(_tag_ok(value, wanted) for value in values):
            return False
    return True


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
    _level: int = 1,
) -> bool:
    """Evaluate an advanced query (checked by :func:`check_query`) against one document.

    ``getter`` reads a field; ``special`` maps field names whose conditions have their
    own grammar (device ``tags``) to a function deciding the match.
    """
    if query is None:
        return True
    if not isinstance(query, dict):
        raise validation("A query must be a JSON object")
    if _level > MAX_QUERY_DEPTH:
        raise validation(f"the query nests more than {MAX_QUERY_DEPTH} levels of $and/$or/$nor")
    for key, condition in query.items():
        if key in ("$and", "$or", "$nor"):
            if not isinstance(condition, list):
                raise validation(f"{key} takes an array of queries")
            results = (matches(doc, sub, getter, special, _level + 1) for sub in condition)
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
