"""Request bodies: Python values made JSON-ready by their schema, and errors in API terms.

* :func:`prepare` walks a body beside its model's types: datetimes become what the API
  takes at that position (epoch milliseconds where it wants a number, ISO 8601 text
  elsewhere), everything else goes through ``_values.json_ready`` (Decimal, enums, NaN...).
* :func:`explain` turns pydantic's errors into ``(location, message)`` pairs: locations
  are API paths (``columns[0].constraint``), messages name allowed values, and only the
  errors of the union member the body came closest to are kept.
* :func:`check_keys` refuses Python field names and unknown keys of closed objects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, RootModel, ValidationError

from .._values import epoch_ms, iso_utc, json_ready
from ._types import (
    expanded,
    is_model_class,
    item_type,
    keys_of,
    member_type,
    object_type,
    top_type,
    type_at,
)

__all__ = ["api_path", "check_keys", "explain", "prepare", "unknown_keys"]

Path = tuple[int | str, ...]
Problems = list[tuple[str, str]]

_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")
# Names of the number fields that hold times (epoch milliseconds): ``time``, ``start``,
# ``end`` of queries, ``creationDate``/``lastUpdated``/``...At`` of advanced queries.
_TIME_NAME = re.compile(r"^(time|start|end|since|until|date|lastUpdated)$|[a-z](Date|At|Time)$")
_NUMBER_TYPES: tuple[type, ...] = (float, int)


def api_path(path: Path) -> str:
    """``("columns", 0, "constraint")`` -> ``columns[0].constraint``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENT.match(part):
            out += ("." if out else "") + part
        else:
            out += f"[{json.dumps(part)}]"
    return out


def _where(path: Path) -> str:
    text = api_path(path)
    return "body" + ("" if not text or text.startswith("[") else ".") + text


# ------------------------------------------------------------------------ types


def _literals(tp: Any) -> list[Any]:
    """The allowed values of a Literal type (or of a union of them); [] for others."""
    values: list[Any] = []
    for member in expanded(tp) if tp is not None else []:
        if get_origin(member) is Literal:
            values += [v for v in get_args(member) if v not in values]
    return values


# ---------------------------------------------------------------------- prepare


def prepare(cls: type[BaseModel], body: Any, problems: Problems) -> Any:
    """``body`` as JSON data for ``cls``'s schema; refusals are added to ``problems``."""
    return _prepare(top_type(cls), body, (), problems)


def _prepare(tp: Any, value: Any, path: Path, problems: Problems) -> Any:
    if isinstance(value, (str, bool)) and tp is not None and _only_numbers(tp):
        # pydantic's lax mode takes True as 1 and "5" as 5; the API wants real numbers.
        wanted = "an integer" if int in expanded(tp) else "a number"
        problems.append((api_path(path), f"must be {wanted}, not {_got(value)}"))
        return value
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="python", by_alias=True, exclude_unset=True, warnings=False)
        return _prepare(tp, value, path, problems) if value is not None else None
    if isinstance(value, Mapping):
        container = object_type(tp, value)
        changed = not isinstance(value, dict)
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                problems.append((api_path(path), f"keys must be strings, not {key!r}"))
                continue
            new = _prepare(member_type(container, key), item, (*path, key), problems)
            changed = changed or new is not item
            out[key] = new
        return out if changed else value
    if isinstance(value, (list, tuple)):
        of_items = item_type(tp)
        items = [
            _prepare(of_items, item, (*path, index), problems) for index, item in enumerate(value)
        ]
        if isinstance(value, list) and all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return items
    if isinstance(value, datetime):
        return _time(tp, value, path, problems)
    try:
        return json_ready(value, _where(path))
    except (TypeError, ValueError) as error:
        problems.append((api_path(path), _unprefixed(str(error), _where(path))))
        return value


def _only_numbers(tp: Any) -> bool:
    """Whether the schema allows only numbers (and null) at a position of type ``tp``."""
    members = [m for m in expanded(tp) if m is not type(None)]
    return bool(members) and all(m in (int, float) for m in members)


def _unprefixed(message: str, where: str) -> str:
    return message[len(where) + 2 :] if message.startswith(where + ": ") else message


def _time(tp: Any, value: datetime, path: Path, problems: Problems) -> Any:
    """A datetime as the API takes it at ``path``: epoch ms for number-only time fields."""
    members = expanded(tp) if tp is not None else []
    takes_number = any(m in _NUMBER_TYPES for m in members)
    takes_text = tp is None or any(m is str or m is datetime or m is Any for m in members)
    name = next((p for p in reversed(path) if isinstance(p, str) and not p.startswith("$")), "")
    where = _where(path)
    try:
        if takes_number and not takes_text:
            if _TIME_NAME.search(name):
                return epoch_ms(value, where)
            problems.append((api_path(path), "takes a number, not a datetime"))
            return value
        return iso_utc(value, where)
    except ValueError as error:
        problems.append((api_path(path), _unprefixed(str(error), where)))
        return value


# ---------------------------------------------------------------------- explain

_KEY, _TAG, _KEY_ERROR = "key", "tag", "[key]"

# What each pydantic error type says the value should have been, in JSON words.
_EXPECTED = {
    "string_type": "a string",
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "bool_type": "a boolean",
    "bool_parsing": "a boolean",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "is_instance_of": "an object",
    "dataclass_type": "an object",
    "none_required": "null",
    "datetime_type": "a date-time",
    "datetime_parsing": "a date-time",
    "datetime_from_date_parsing": "a date-time",
}

_PHRASE_ORDER = ["a number", "an integer", "a string", "a boolean", "a date-time", "an object",
                 "a list", "null"]


class _Entry:
    """One pydantic error with its location split into data keys and union tags."""

    __slots__ = ("steps", "error")

    def __init__(self, steps: list[tuple[str, Any]], error: dict[str, Any]) -> None:
        self.steps = steps
        self.error = error

    def depth(self) -> int:
        """How deep into the body the error is (union tags do not count)."""
        return sum(1 for kind, _ in self.steps if kind != _TAG)

    def path(self) -> Path:
        return tuple(part for kind, part in self.steps if kind == _KEY)


def explain(cls: type[BaseModel], data: Any, error: ValidationError) -> Problems:
    """Pydantic's errors for ``data`` as ``(API path, message)`` pairs."""
    entries = [_split(data, dict(item)) for item in error.errors(include_url=False)]
    problems: Problems = []
    for entry in _closest(entries, 0):
        problem = (api_path(entry.path()), _message(cls, data, entry))
        if problem not in problems:
            problems.append(problem)
    return problems


def _split(data: Any, error: dict[str, Any]) -> _Entry:
    """Tell the data keys of an error's location from the union member tags in it."""
    steps: list[tuple[str, Any]] = []
    current, present = data, True
    loc = error["loc"]
    for index, part in enumerate(loc):
        if present and isinstance(current, dict) and isinstance(part, str) and part in current:
            steps.append((_KEY, part))
            current = current[part]
        elif present and isinstance(current, list) and isinstance(part, int):
            steps.append((_KEY, part))
            current = current[part] if 0 <= part < len(current) else None
        elif part == "[key]":
            steps.append((_KEY_ERROR, part))
        elif error["type"] == "missing" and index == len(loc) - 1:
            steps.append((_KEY, part))
            present = False
        else:
            steps.append((_TAG, part))
    return _Entry(steps, error)


def _closest(entries: list[_Entry], index: int) -> list[_Entry]:
    """Keep, at every union in the body, only the errors of the closest member."""
    out = [entry for entry in entries if len(entry.steps) <= index]
    groups: dict[tuple[str, Any], list[_Entry]] = {}
    for entry in entries:
        if len(entry.steps) > index:
            groups.setdefault(entry.steps[index], []).append(entry)
    tagged = [group for step, group in groups.items() if step[0] == _TAG]
    if tagged:
        here = sum(1 for kind, _ in tagged[0][0].steps[:index] if kind != _TAG)
        if all(entry.depth() == here for group in tagged for entry in group):
            out.append(_merged(tagged, index))  # the value itself fit no member
        else:
            best = min(tagged, key=lambda g: (-max(e.depth() for e in g), len(g)))
            out += _closest(best, index + 1)
    for step, group in groups.items():
        if step[0] != _TAG:
            out += _closest(group, index + 1)
    return out


def _merged(groups: list[list[_Entry]], index: int) -> _Entry:
    """One error saying every shape a union allowed: ``must be a string or a number``."""
    phrases: list[str] = []
    literals: list[str] = []
    first = groups[0][0]
    for group in groups:
        for entry in group:
            error = entry.error
            if error["type"] == "literal_error":
                literals += [v for v in _literal_texts(error) if v not in literals]
                continue
            phrase = _expected(error)
            if phrase not in phrases:
                phrases.append(phrase)
    # One fixed order, whatever order the union's members failed in.
    phrases.sort(key=lambda p: (_PHRASE_ORDER.index(p) if p in _PHRASE_ORDER else
                                len(_PHRASE_ORDER), p))
    if literals:
        phrases.insert(0, "one of " + ", ".join(literals))
    text = "must be " + _or(phrases) + f" (got {_got(first.error.get('input'))})"
    steps = [step for step in first.steps[:index] if step[0] != _TAG]
    return _Entry(steps, {"type": "losant_merged", "msg": text, "loc": ()})


def _literal_texts(error: dict[str, Any]) -> list[str]:
    expected = str((error.get("ctx") or {}).get("expected", ""))
    head, _, last = expected.rpartition(" or ")
    return [part.strip() for part in head.split(", ") if part.strip()] + [last.strip()]


def _expected(error: dict[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    if kind == "string_pattern_mismatch":
        return f"a string matching {ctx.get('pattern')}"
    if kind == "literal_error":
        return "one of " + ", ".join(_literal_texts(error))
    return "valid (" + str(error.get("msg", "")).lower() + ")"


def _or(phrases: list[str]) -> str:
    if len(phrases) <= 1:
        return "".join(phrases)
    return ", ".join(phrases[:-1]) + " or " + phrases[-1]


def _got(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(cls: type[BaseModel], data: Any, entry: _Entry) -> str:
    error = entry.error
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "losant_merged":
        return str(error["msg"])
    if any(step[0] == _KEY_ERROR for step in entry.steps):
        pattern = ctx.get("pattern")
        rule = f"match {pattern}" if pattern else "be " + _expected(error)
        return f"this key is not allowed: keys must {rule}"
    got = _got(error.get("input"))
    if kind == "missing":
        allowed = _literals(type_at(top_type(cls), entry.path(), data))
        if allowed:
            return "Field required: one of " + ", ".join(repr(v) for v in allowed)
        return "Field required"
    if kind == "literal_error":
        allowed = _literals(type_at(top_type(cls), entry.path(), data))
        values = [repr(v) for v in allowed] if allowed else _literal_texts(error)
        return f"must be one of {', '.join(values)} (got {got})"
    if kind == "string_pattern_mismatch":
        return f"must match {ctx.get('pattern')} (got {got})"
    if kind in ("too_long", "too_short"):
        return _length(kind, ctx) or str(error.get("msg", kind))
    if kind in _EXPECTED:
        return f"must be {_EXPECTED[kind]} (got {got})"
    return str(error.get("msg", kind))


# What a too-long list tells the caller to do (docs/data.md shows the pattern).
_CHUNK_HINT = "split the list into chunks (see docs/data.md)"


def _length(kind: str, ctx: Mapping[str, Any]) -> str | None:
    """``at most 1000 items (got 2500); split the list ...`` for a list (or object) of the
    wrong size; None when pydantic did not say the sizes."""
    actual = ctx.get("actual_length")
    limit = ctx.get("max_length" if kind == "too_long" else "min_length")
    if not isinstance(limit, int) or not isinstance(actual, int):
        return None
    what = "keys" if ctx.get("field_type") == "Dictionary" else "items"
    if kind == "too_short":
        return f"at least {limit} {what} (got {actual})"
    text = f"at most {limit} {what} (got {actual})"
    return f"{text}; {_CHUNK_HINT}" if what == "items" else text


# ------------------------------------------------------------------- check_keys


def check_keys(value: Any, data: Any, path: Path, problems: Problems) -> None:
    """Walk a validated body beside its input: refuse unknown and non-API keys."""
    if isinstance(value, RootModel):
        check_keys(value.root, data, path, problems)
        return
    if isinstance(value, BaseModel) and isinstance(data, dict):
        cls = type(value)
        fields = cls.model_fields
        by_alias = {(info.alias or name): name for name, info in fields.items()}
        for key, item in data.items():
            name = by_alias.get(key)
            if name is not None:
                check_keys(getattr(value, name), item, (*path, key), problems)
            elif key in fields:
                hint = f"use the API name {fields[key].alias!r}"
                problems.append((api_path((*path, key)), hint))
            elif getattr(cls, "__losant_closed__", False) and not _pattern_key(cls, key):
                problems.append((api_path((*path, key)), _unknown(keys_of(cls), fields)))
    elif isinstance(value, list) and isinstance(data, list):
        for index, (item, raw) in enumerate(zip(value, data, strict=False)):
            check_keys(item, raw, (*path, index), problems)
    elif isinstance(value, dict) and isinstance(data, dict):
        for key, item in data.items():
            if key in value:
                check_keys(value[key], item, (*path, key), problems)


def unknown_keys(cls: type[BaseModel], data: Any, problems: Problems) -> None:
    """Refuse unknown and non-API keys by the schema's types alone (for a body that did
    not validate, so has no model to walk)."""
    _unknown_keys(top_type(cls), data, (), problems)


def _unknown_keys(tp: Any, data: Any, path: Path, problems: Problems) -> None:
    if isinstance(data, list):
        of_items = item_type(tp)
        if of_items is not None:
            for index, item in enumerate(data):
                _unknown_keys(of_items, item, (*path, index), problems)
        return
    if not isinstance(data, dict):
        return
    container = object_type(tp, data)
    if container is None:
        return
    for key, item in data.items():
        member = member_type(container, key)
        if member is not None:
            _unknown_keys(member, item, (*path, key), problems)
        elif is_model_class(container):
            fields = container.model_fields
            where = api_path((*path, key))
            if key in fields and fields[key].alias:
                problems.append((where, f"use the API name {fields[key].alias!r}"))
            elif getattr(container, "__losant_closed__", False):
                if not _pattern_key(container, key):
                    problems.append((where, _unknown(keys_of(container), fields)))


def _unknown(keys: Mapping[str, str], fields: Mapping[str, Any]) -> str:
    names = (key for key, name in keys.items() if key == (fields[name].alias or name))
    allowed = ", ".join(sorted(names))
    if len(allowed) > 300:
        allowed = allowed[:297] + "..."
    return f"unknown key; this object takes: {allowed}"


def _pattern_key(cls: type[BaseModel], key: str) -> bool:
    """Whether ``key`` matches one of the model's patternProperties (searched, as in JSON
    Schema)."""
    patterns: tuple[str, ...] = getattr(cls, "__losant_key_patterns__", ())
    return any(re.search(pattern, key) for pattern in patterns)
