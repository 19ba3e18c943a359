"""How models show themselves: ``repr``, ``str``, IPython and Jupyter display.

Everything here runs only when a model is shown, never while parsing. The rules:

* only the fields the response carried (fields set, then unknown keys) are shown;
* datetimes are written as Losant writes them (``2024-05-01T12:00:00.000Z``);
* credentials (tokens, passwords, secrets, private keys) are shown as ``'***'``;
* long strings, lists and mappings are cut, and a whole text never exceeds its budget, so
  a page of 1,000 devices prints in a screenful;
* a small value (a scalar, or a list or mapping of scalars) is written out even past the
  nesting limit, so time-series points show their time and data, not ``[...7 items]``;
* an HTML table shows at most ``HTML_ROWS`` rows and ``HTML_COLUMNS`` columns (pandas'
  defaults) and says how many it left out, so a notebook never receives a whole page.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, RootModel

from .._values import js_iso
from . import _lazy
from ._compat import field_values
from ._types import read, tabular_kind

__all__ = [
    "Limits", "html_table", "inline", "instance_dir", "is_container", "lines", "masked",
]

# Field names whose values are credentials: shown as '***'.
_SECRET_NAME = re.compile(r"(password|secret|(^|_)token$|^token|private_?key)", re.IGNORECASE)
MASK = "***"
# Fields shown first when a model has them: what tells one item from another.
_FIRST = ("id", "name", "key")
# The counts of a collection page, by API name.
COUNTS = ("totalCount", "count", "page", "perPage", "offset", "limit", "hasMore")


@dataclass(frozen=True)
class Limits:
    """How much of a value one display shows."""

    text: int  # characters of one string
    items: int  # items of one list or mapping
    depth: int  # nesting levels written out
    total: int  # characters of the whole text


REPR = Limits(text=60, items=5, depth=3, total=2000)
STR = Limits(text=200, items=20, depth=4, total=8000)
LINE = Limits(text=40, items=3, depth=2, total=160)  # one item of a collection
CELL = Limits(text=60, items=3, depth=1, total=120)  # one HTML table cell
FIELD = Limits(text=60, items=5, depth=3, total=600)  # one field of a single model's table
# Rows and columns of an HTML table (pandas' display.max_rows and max_columns).
HTML_ROWS = 60
HTML_COLUMNS = 20


def masked(args: Iterable[tuple[str | None, Any]]) -> Iterable[tuple[str | None, Any]]:
    """``(name, value)`` pairs with the values of credential-named fields masked."""
    for name, value in args:
        if name and isinstance(value, str) and _SECRET_NAME.search(name):
            yield name, MASK
        else:
            yield name, value


def iso(value: datetime) -> str:
    """A datetime as JavaScript's toISOString writes it (naive ones as they are)."""
    if value.tzinfo is None:
        return value.isoformat()
    return js_iso(value)


def shown_fields(model: BaseModel) -> list[tuple[str, Any]]:
    """The fields a model carries, identity fields first, then its unknown keys; masked."""
    fields = type(model).model_fields
    present = [name for name in fields if name in model.model_fields_set]
    first = [name for name in _FIRST if name in present]
    order = first + [name for name in present if name not in first]
    pairs: list[tuple[str | None, Any]] = [(name, getattr(model, name, None)) for name in order]
    extra = model.__pydantic_extra__
    if extra:
        pairs += list(extra.items())
    return [(str(name), value) for name, value in masked(pairs)]


class _Budget:
    """Characters left for one text; once spent, values are written as ``...``."""

    __slots__ = ("left",)

    def __init__(self, left: int) -> None:
        self.left = left

    def spend(self, text: str) -> str:
        self.left -= len(text)
        return text


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}...(+{len(text) - limit} chars)"


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, datetime))


def _is_flat(value: Any) -> bool:
    """Whether ``value`` is small enough to write out past the nesting limit: a scalar, a
    list or mapping of scalars, or a model whose carried fields are all of those."""
    if _is_scalar(value):
        return True
    if isinstance(value, Mapping):
        return all(_is_scalar(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return all(_is_scalar(item) for item in value)
    if isinstance(value, BaseModel) and not isinstance(value, RootModel):
        return all(
            _is_scalar(item) or (isinstance(item, (Mapping, list, tuple)) and _is_flat(item))
            for _, item in shown_fields(value)
        )
    return False


def _value(value: Any, limits: Limits, depth: int, budget: _Budget) -> str:
    if budget.left <= 0:
        return "..."
    if depth >= limits.depth and not _is_scalar(value) and _is_flat(value):
        depth = limits.depth - 1  # small: written out one level past the limit
    if isinstance(value, BaseModel):
        return _model(value, limits, depth, budget)
    if isinstance(value, datetime):
        return budget.spend(iso(value))
    if isinstance(value, str):
        return budget.spend(_cut(value, limits.text))
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        if depth >= limits.depth:
            return budget.spend(f"{{...{len(value)} keys}}")
        parts = []
        for index, (key, item) in enumerate(value.items()):
            if index >= limits.items or budget.left <= 0:
                parts.append(f"... {len(value) - index} more")
                break
            if isinstance(item, str) and isinstance(key, str) and _SECRET_NAME.search(key):
                item = MASK
            key_text = budget.spend(_cut(key, limits.text) if isinstance(key, str) else repr(key))
            parts.append(f"{key_text}: {_value(item, limits, depth + 1, budget)}")
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        if depth >= limits.depth:
            if _is_flat(value[0]):  # points and the like: the first ones, then the count
                return _items(value, limits, depth - 1, budget)
            return budget.spend(f"[...{len(value)} items]")
        return _items(value, limits, depth, budget)
    text = repr(value)
    if len(text) > limits.text * 2:
        text = text[: limits.text * 2] + "..."
    return budget.spend(text)


def _items(value: Sequence[Any], limits: Limits, depth: int, budget: _Budget) -> str:
    parts = []
    for index, item in enumerate(value):
        if index >= limits.items or budget.left <= 0:
            parts.append(f"... {len(value) - index} more")
            break
        parts.append(_value(item, limits, depth + 1, budget))
    return "[" + ", ".join(parts) + "]"


def _model(model: BaseModel, limits: Limits, depth: int, budget: _Budget) -> str:
    name = type(model).__name__
    if isinstance(model, RootModel):
        root = model.root
        return budget.spend(name + "(") + _value(root, limits, depth, budget) + ")"
    if depth >= limits.depth:
        return budget.spend(f"{name}(...)")
    parts = []
    for field, value in shown_fields(model):
        if budget.left <= 0:
            parts.append("...")
            break
        parts.append(budget.spend(field + "=") + _value(value, limits, depth + 1, budget))
    return budget.spend(name + "(") + ", ".join(parts) + ")"


def inline(value: Any, limits: Limits) -> str:
    """One line showing ``value`` (a model or any JSON value) within ``limits``."""
    text = _value(value, limits, 0, _Budget(limits.total))
    if len(text) > limits.total:
        text = text[: limits.total - 3] + "..."
    return text


def _counts(model: BaseModel) -> str:
    parts = []
    for name in COUNTS:
        value = read(model, name)
        if value is not None:
            parts.append(f"{name}={value!r}")
    return ", ".join(parts)


def lines(model: BaseModel, *, full: bool) -> str:
    """A multi-line text: a collection's first items, or one field per line.

    ``full=False`` is the ``repr`` of a collection (5 items); ``full=True`` is ``str``
    (20 items, longer lines). Single models get one ``name: value`` line per field.
    """
    limits = STR if full else REPR
    name = type(model).__name__
    entries = _entries(model)
    if entries is not None:
        label, rows, noun = entries
        plural = "entries" if noun == "entry" else noun + "s"
        header = f"{name}({label})" if label else name
        where = " on this page" if _shape(model) == "collection" else ""
        if not rows:
            return f"{header}: no {plural}{where}"
        width = 200 if full else 120
        shown = limits.items
        out = [f"{header}: {len(rows)} {noun if len(rows) == 1 else plural}{where}"]
        for key, item in rows[:shown]:
            text = f"  {key} " + inline(item, LINE if not full else REPR)
            out.append(text if len(text) <= width else text[: width - 3] + "...")
        if len(rows) > shown:
            out.append(f"  ... {len(rows) - shown} more")
        return "\n".join(out)
    budget = _Budget(limits.total)
    out = [name]
    for field, value in shown_fields(model):
        if budget.left <= 0:
            out.append("  ...")
            break
        out.append(f"  {field}: " + _value(value, limits, 1, budget))
    return "\n".join(out)


def _entries(model: BaseModel) -> tuple[str, list[tuple[str, Any]], str] | None:
    """``(header label, [(key, item)], noun)`` for collections, lists and mappings."""
    if _shape(model) == "collection":
        items = field_values(model).get("items") or []
        label = _counts(model)
        if items or "items" in model.model_fields_set:
            return label, _indexed(items), "item"
        return None
    if _shape(model) == "list":
        return "", _indexed(field_values(model).get("root") or []), "item"
    if _shape(model) == "map":
        root: Mapping[str, Any] = field_values(model).get("root") or {}
        return "", [(f"{key!r}:", value) for key, value in root.items()], "entry"
    return None


def _indexed(items: Sequence[Any]) -> list[tuple[str, Any]]:
    return [(f"[{index}]", item) for index, item in enumerate(items)]


def html_table(model: BaseModel) -> str:
    """An HTML table: one row per item for collections, field/value rows otherwise.

    At most ``HTML_ROWS`` rows and ``HTML_COLUMNS`` columns are written; a last row says
    how many items (and a last header how many columns) were left out.
    """
    name = html.escape(type(model).__name__)
    entries = _entries(model)
    if entries is None:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(field)}</th>"
            f"<td style='text-align:left'>{html.escape(_cell(value, FIELD))}</td></tr>"
            for field, value in shown_fields(model)
        )
        return f"<table><caption>{name}</caption><tbody>{rows}</tbody></table>"
    label, items, _ = entries
    shown = items[:HTML_ROWS]
    cells_of = [_cells(item) for _, item in shown]
    columns: list[str] = []
    for cells in cells_of:
        columns += [field for field in cells if field not in columns]
    hidden_columns = len(columns) - HTML_COLUMNS
    columns = columns[:HTML_COLUMNS]
    head = "".join(f"<th>{html.escape(column)}</th>" for column in ["", *columns])
    if hidden_columns > 0:
        head += f"<th>... {hidden_columns} more columns</th>"
    body = []
    for (key, _), cells in zip(shown, cells_of, strict=True):
        row = [f"<th>{html.escape(key.rstrip(':'))}</th>"]
        row += [
            f"<td style='text-align:left'>"
            f"{html.escape(_cell(cells[column], CELL)) if column in cells else ''}</td>"
            for column in columns
        ]
        body.append("<tr>" + "".join(row) + "</tr>")
    rest = len(items) - len(shown)
    if rest > 0:
        span = len(columns) + 1 + (hidden_columns > 0)
        body.append(
            f"<tr><td colspan='{span}' style='text-align:left'>... {rest} more rows "
            f"(first {len(shown)} of {len(items)} shown)</td></tr>"
        )
    caption = html.escape(f"{type(model).__name__}({label}): {len(items)} rows")
    return (
        f"<table><caption>{caption}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _cell(value: Any, limits: Limits) -> str:
    if isinstance(value, str):
        return value if len(value) <= limits.text else value[: limits.text] + "..."
    return inline(value, limits)


def _cells(item: Any) -> dict[str, Any]:
    if isinstance(item, BaseModel) and not isinstance(item, RootModel):
        return dict(shown_fields(item))
    if isinstance(item, Mapping):
        return {str(key): value for key, value in masked(item.items())}
    return {"value": item}


def is_container(model: BaseModel) -> bool:
    """Whether ``model`` is shown as a list of entries (a page, a list or a mapping)."""
    return _entries(model) is not None


# ``dir()`` of a model class lists the class's own public names and those of our bases,
# not pydantic's: ``help(DevicePost)`` is then the field table and a page of methods rather
# than 500 lines of pydantic documentation. Every pydantic method (model_dump,
# model_validate, ...) still works as usual; it is only not listed by ``dir(DevicePost)``
# (instances list their fields and what works on them: ``instance_dir``).
# Special methods listed when a class defines them (the container behaviour of results).
_CLASS_DIR_DUNDERS = ("__contains__", "__getitem__", "__iter__", "__len__")


def class_dir(cls: type) -> list[str]:
    """``dir()`` of a model class: its own public names and our bases', not pydantic's."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass.__module__.startswith(("pydantic", "typing")) or klass is object:
            continue
        for name, value in vars(klass).items():
            if isinstance(value, _lazy.LazyField):  # a field: listed in the docstring's table
                continue
            if name.startswith("model_"):  # pydantic's (before 2.10 it set model_fields and
                continue  # model_computed_fields on every class), listed where useful
            if name in _CLASS_DIR_DUNDERS or not name.startswith("_"):
                names.add(name)
    return sorted(names)



def _shape(model: Any) -> str | None:
    """``collection``, ``list``, ``map`` (or ``model``) for results; None for other models."""
    return getattr(type(model), "__losant_shape__", None)


# Pydantic's own names worth completing on a result; the rest of its names (the deprecated
# ``dict``, ``json``, ``parse_obj``, ``schema``... and its internals) are left out of
# ``dir()``. Every one of them still works.
_PYDANTIC_SHOWN = (
    "model_copy", "model_dump", "model_dump_json", "model_extra", "model_fields_set",
    "model_json_schema", "model_validate", "model_validate_json",
)
# Methods that only collections (and tabular results) answer; hidden where they would raise.
_WALKS = ("iter_items", "pages")


def instance_dir(model: BaseModel) -> list[str]:
    """``dir()`` of a result, what completion offers: its fields and unknown keys, the
    library's methods that work on it, a few of pydantic's; private names as usual."""
    cls = type(model)
    names = {name for name in object.__dir__(model) if name.startswith("_")}
    names.update(class_dir(cls))
    names.update(cls.model_fields)
    names.update(model.__pydantic_extra__ or ())
    names.update(_PYDANTIC_SHOWN)
    names.discard("model_config")
    walk = getattr(model, "_walk_pager", None)
    if "items" not in cls.model_fields and (walk is None or walk() is None):
        names.difference_update(_WALKS)
    if tabular_kind(model) is None:  # no table: no Dask frame or Parquet either
        names.difference_update(("to_pandas", "to_dask", "to_parquet"))
    return sorted(names)
