"""Base classes of every Losant model.

``LosantModel`` is the base of every object model: unknown fields are kept
(``extra="allow"``), fields are filled by their Python name or by the API's camelCase
name, and the HTTP response and decoded JSON a model was read from stay reachable.
``LosantRootModel`` is the base of schemas that are not objects (arrays, unions...).

The generator picks a more specific base where the schema says what a result holds:

* ``LosantCollection[Item]``: an object with an ``items`` list (``Devices``...): ``len()``,
  indexing and slicing use this page; iterating walks every page.
* ``LosantListModel[Item]``: a JSON array (``DeviceStates``...): a read-only sequence.
* ``LosantMapModel[Value]``: a JSON object keyed by ids or names (``LastValueData``...): a
  read-only mapping.
* ``LosantVariantModel``: one of several object shapes (``DataTableRowInsertResult``...):
  attributes and ``[]`` reach the object it holds.

Showing a model (``repr``, ``str``, IPython, Jupyter) is done in ``_display.py``, only when
asked: parsing pays nothing for it.
"""

from __future__ import annotations

import enum
import inspect
import re
import sys
import types
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from datetime import datetime
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    ClassVar,
    Final,
    Generic,
    SupportsIndex,
    TypeVar,
    Union,
    get_args,
    get_origin,
    overload,
)

from pydantic import BaseModel, ConfigDict, PlainSerializer, RootModel

from .._values import js_iso, loads
from . import _compat, _display, _lazy
from ._paged import PagedResultMixin
from ._types import keys_of

if TYPE_CHECKING:
    import requests
    from typing_extensions import Self

class _Raw(enum.Enum):
    """Stands for "the JSON of the response body", decoded only when ``raw_json()`` asks."""

    FROM_RESPONSE = "from-response"


RAW_FROM_RESPONSE: Final = _Raw.FROM_RESPONSE

__all__ = [
    "GenericModel",
    "GenericRootModel",
    "LosantCollection",
    "LosantDateTime",
    "LosantListModel",
    "LosantMapModel",
    "LosantModel",
    "LosantNumber",
    "LosantRecordModel",
    "LosantRootModel",
    "LosantVariantModel",
]

RootT = TypeVar("RootT")
ItemT = TypeVar("ItemT")
ValueT = TypeVar("ValueT")
DefaultT = TypeVar("DefaultT")

def _js_iso(value: Any) -> Any:
    """Write a datetime the way Losant (JavaScript's toISOString) does: UTC, milliseconds.

    Anything else (a value kept as-is by lenient parsing) is written unchanged.
    """
    return js_iso(value) if isinstance(value, datetime) else value


def _js_number(value: Any) -> Any:
    """Write whole numbers without a fraction, as JavaScript (and so Losant) does."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# The type of every ``number`` field: a float in Python, ``5`` rather than ``5.0`` in JSON.
LosantNumber = Annotated[float, PlainSerializer(_js_number, when_used="json")]

# The type of every ``date-time`` field: a datetime in Python, Losant's format in JSON.
LosantDateTime = Annotated[datetime, PlainSerializer(_js_iso, when_used="json")]


class _Text(str):
    """Text that the REPL shows as it is (its repr is itself)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


class LosantModel(PagedResultMixin, BaseModel, metaclass=_compat.ShortDirMeta):  # type: ignore[misc]
    """Base of every generated model: lenient about extra fields, aware of its response.

    ``repr()`` shows the fields the response carried (datetimes as Losant writes them,
    long values cut, credentials masked); ``str()`` shows one field per line.
    ``Model.describe()`` gives the field table of a model class.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        protected_namespaces=(),
    )

    # Set to True on models whose schema forbids unknown keys (additionalProperties:
    # false); enforced only when validating request bodies, never on responses.
    # What a result is shown and tabled as (``collection``, ``list``, ``map``), read by
    # ``_display`` and ``_types.tabular_kind``, which import no model class.
    __losant_shape__: ClassVar[str] = "model"
    __losant_closed__: ClassVar[bool] = False
    # Regular expressions (JSON Schema patternProperties) of the further keys a closed
    # model accepts besides its fields; their values are kept as plain JSON.
    __losant_key_patterns__: ClassVar[tuple[str, ...]] = ()

    # Fields built on first read (see ``_lazy.py``), set when the class is made.
    __losant_lazy__: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.__losant_lazy__ = _lazy.install(cls)

    @classmethod
    def __losant_dir__(cls) -> list[str]:
        """``dir()`` of the class (see ``_display.class_dir``)."""
        return _display.class_dir(cls)

    def _losant_nested_read(self) -> bool:
        """Whether a field built on first read (see ``_lazy.py``) was read on this model."""
        return _lazy.was_read(self)

    def __eq__(self, other: object) -> bool:
        """Equal data: fields and unknown keys, as pydantic compares them, but not where a
        result came from (its response, raw JSON and pager): two answers of the same JSON
        are equal, and equal to the model validated from that JSON."""
        if not isinstance(other, BaseModel):
            return NotImplemented
        _lazy.materialize(self)  # compare built models, never their plain JSON
        _lazy.materialize(other)
        return _compat.equal_data(self, other, "_losant_")

    def __copy__(self) -> Self:
        """A shallow copy sharing the built models of lazy fields, as an eager copy does."""
        _lazy.materialize(self)
        return super().__copy__()

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name in type(self).__losant_lazy__:  # an assigned tuple or dict is not JSON
            _lazy.keep_assigned(self, (name,))

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        # a dict: what pydantic 2.6's model_copy takes (later ones take any mapping)
        copied = super().model_copy(update=None if update is None else dict(update), deep=deep)
        if update:  # written directly by pydantic: values, never JSON to build
            _lazy.keep_assigned(copied, update)
        return copied

    @classmethod
    def model_construct(cls, _fields_set: set[str] | None = None, **values: Any) -> Self:
        model = super().model_construct(_fields_set, **values)
        _lazy.keep_assigned(model, cls.__losant_lazy__)  # values given, never JSON to build
        return model

    def __getstate__(self) -> dict[Any, Any]:
        """Pickle the built models of lazy fields, as an eager model pickles them."""
        _lazy.materialize(self)
        state = super().__getstate__()
        private = state.get("__pydantic_private__")
        if isinstance(private, dict) and private.get("_losant_response") is not None:
            # the response's request carries the token: pickled without it (see below)
            kept = _pickled_response(private["_losant_response"])
            state = {**state, "__pydantic_private__": {**private, "_losant_response": kept}}
        return state

    # The response, raw JSON and pager of a result live in ``__pydantic_private__``, set by
    # ``_registry.attach_response`` and ``_pagination.attach_pager``. They are deliberately
    # not declared as pydantic private attributes: declaring any makes pydantic run a
    # Python ``model_post_init`` for every instance, which more than doubles parsing time.
    # For the same reason everything below runs only when asked, never while parsing.

    def __dir__(self) -> list[str]:
        """What completion offers: fields, unknown keys and the methods that work here."""
        return _display.instance_dir(self)

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        """The fields the model carries, then its unknown keys; credentials masked."""
        return _display.shown_fields(self)

    def __repr__(self) -> str:
        if _display.is_container(self):
            return _display.lines(self, full=False)
        return _display.inline(self, _display.REPR)

    def __str__(self) -> str:
        return _display.lines(self, full=True)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's display: the text of ``repr``, one field or item per line."""
        printer.text(f"{type(self).__name__}(...)" if cycle else _display.lines(self, full=False))

    def _repr_html_(self) -> str:
        """Jupyter's display: a table (one row per item of a collection or list)."""
        return _display.html_table(self)

    @classmethod
    def describe(cls) -> str:
        """The field table of this model class (and of the objects its fields hold).

        Each field: Python name, API name, type, whether it is required, allowed values.
        """
        own = inspect.cleandoc(cls.__doc__ or cls.__name__)
        parts = [own]
        for nested in _nested_models(cls):
            doc = inspect.cleandoc(nested.__doc__ or "")
            if doc:
                indented = ("    " + line if line else "" for line in doc.splitlines())
                parts.append(f"{_local_name(cls, nested, own)}:\n" + "\n".join(indented))
        return _Text("\n\n".join(parts))

    def http_response(self) -> requests.Response | None:
        """The response this model was read from (None if built by hand): a
        ``requests.Response`` from an ``API``, the ``httpx.Response`` from an ``AsyncAPI``."""
        private = self.__pydantic_private__
        response: requests.Response | None = private.get("_losant_response") if private else None
        return response

    def raw_json(self) -> Any:
        """The decoded JSON this model was read from (None if built by hand)."""
        private = self.__pydantic_private__
        if not private:
            return None
        raw = private.get("_losant_raw")
        if raw is RAW_FROM_RESPONSE:  # validated from the bytes: decode them on first ask
            response = private.get("_losant_response")
            raw = loads(response.content) if response is not None else None
            private["_losant_raw"] = raw
        return raw


_UNIONS: tuple[Any, ...] = (Union, types.UnionType)


def _model_classes(tp: Any, found: list[type[LosantModel]]) -> None:
    """The model classes a type expression mentions, in order, each once."""
    if isinstance(tp, type) and not isinstance(tp, types.GenericAlias):
        if issubclass(tp, LosantModel) and tp not in found:
            found.append(tp)
        return
    origin = get_origin(tp)
    if origin is Annotated:
        _model_classes(get_args(tp)[0], found)
    elif origin is not None or get_origin(tp) in _UNIONS:
        for arg in get_args(tp):
            _model_classes(arg, found)


def _local_name(owner: type, nested: type, doc: str) -> str:
    """The name ``owner``'s module gives ``nested``: a shape several schemas share is one
    class (``DeviceAttribute``) that each module also names its own way
    (``DevicePostAttribute``), as ``owner``'s field table does."""
    module = sys.modules.get(owner.__module__)
    names = [name for name, value in vars(module).items() if value is nested] if module else []
    for name in sorted(names, key=lambda n: (n == nested.__name__, n)):
        if re.search(rf"\b{re.escape(name)}\b", doc):
            return name
    return nested.__name__


def _nested_models(cls: type[BaseModel]) -> list[type[LosantModel]]:
    """The model classes the fields of ``cls`` hold directly (one level down)."""
    found: list[type[LosantModel]] = []
    for info in cls.model_fields.values():
        _model_classes(info.annotation, found)
    return [model for model in found if model is not cls]


class LosantRootModel(RootModel[RootT], LosantModel, Generic[RootT]):  # type: ignore[misc]
    """Base of models whose schema is not an object; the value is in ``.root``."""

    model_config = ConfigDict(extra=None)


class LosantCollection(LosantModel, Generic[ItemT]):
    """A page of a collection (an object with an ``items`` list, such as ``Devices``).

    ``len(page)``, ``page[0]`` and ``page[1:3]`` (a list) use the items of this page only
    and fetch nothing; ``for item in page`` walks every page of the result, fetching the
    next ones as needed (see ``iter_items`` and ``pages``).
    """

    __losant_shape__: ClassVar[str] = "collection"

    def _page_items(self) -> list[ItemT]:
        items: list[ItemT] | None = _compat.field_values(self).get("items")
        return items if isinstance(items, list) else []

    def __iter__(self) -> Iterator[ItemT]:  # type: ignore[override]
        """Every item of every page (later pages fetched as needed)."""
        return self.iter_items()

    def __len__(self) -> int:
        """The number of items on this page."""
        return len(self._page_items())

    @overload
    def __getitem__(self, index: SupportsIndex) -> ItemT: ...
    @overload
    def __getitem__(self, index: slice) -> list[ItemT]: ...
    def __getitem__(self, index: SupportsIndex | slice) -> ItemT | list[ItemT]:
        """An item of this page, or a list of them for a slice (nothing is fetched)."""
        return self._page_items()[index]


class LosantListModel(LosantRootModel[list[ItemT]], Generic[ItemT]):
    """A result that is a JSON array (such as ``DeviceStates``): a read-only sequence.

    ``len()``, ``[i]``, ``[i:j]`` (a list), ``in`` and iteration work on its items; the
    list itself is ``.root``.
    """

    __losant_shape__: ClassVar[str] = "list"

    def __iter__(self) -> Iterator[ItemT]:  # type: ignore[override]
        """The items."""
        return iter(self.root)

    def __len__(self) -> int:
        return len(self.root)

    def __contains__(self, item: object) -> bool:
        return item in self.root

    def __reversed__(self) -> Iterator[ItemT]:
        return reversed(self.root)

    @overload
    def __getitem__(self, index: SupportsIndex) -> ItemT: ...
    @overload
    def __getitem__(self, index: slice) -> list[ItemT]: ...
    def __getitem__(self, index: SupportsIndex | slice) -> ItemT | list[ItemT]:
        return self.root[index]


class LosantMapModel(LosantRootModel[dict[str, ValueT]], Generic[ValueT]):
    """A result that is a JSON object keyed by ids or names (such as ``LastValueData``).

    A read-only mapping: ``m[key]``, ``key in m``, ``len(m)``, ``keys()``, ``items()``,
    ``values()``, ``get()``; iterating gives the keys, as for a dict. The dict is ``.root``.
    """

    __losant_shape__: ClassVar[str] = "map"

    def __iter__(self) -> Iterator[str]:  # type: ignore[override]
        """The keys."""
        return iter(self.root)

    def __len__(self) -> int:
        return len(self.root)

    def __contains__(self, key: object) -> bool:
        return key in self.root

    def __getitem__(self, key: str) -> ValueT:
        return self.root[key]

    def keys(self) -> KeysView[str]:
        """The keys (ids or names)."""
        return self.root.keys()

    def values(self) -> ValuesView[ValueT]:
        """The values."""
        return self.root.values()

    def items(self) -> ItemsView[str, ValueT]:
        """``(key, value)`` pairs."""
        return self.root.items()

    @overload
    def get(self, key: str) -> ValueT | None: ...
    @overload
    def get(self, key: str, default: DefaultT) -> ValueT | DefaultT: ...
    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key``, or ``default`` when it is absent."""
        return self.root.get(key, default)


class LosantVariantModel(LosantRootModel[RootT], Generic[RootT]):
    """A result that is one of several object shapes (the object is ``.root``).

    Attributes reach the object it holds (``result.id``), and ``result["createdAt"]``,
    ``"rowIds" in result`` and ``result.get(...)`` read its JSON members by API name
    (unknown keys included).
    """

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            return super().__getattr__(name)  # type: ignore[misc]
        root = _compat.field_values(self).get("root")
        if root is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(root, name)

    def _members(self) -> dict[str, Any]:
        root = _compat.field_values(self).get("root")
        if isinstance(root, BaseModel):
            return json_members(root)
        return dict(root) if isinstance(root, dict) else {}

    def __getitem__(self, key: str) -> Any:
        """A JSON member of the object, by API name."""
        return self._members()[key]

    def __contains__(self, key: object) -> bool:
        return key in self._members()

    def get(self, key: str, default: Any = None) -> Any:
        """A JSON member of the object by API name, or ``default``."""
        return self._members().get(key, default)


def json_members(model: BaseModel) -> dict[str, Any]:
    """The members a model's JSON carried, by API name: fields set, then unknown keys."""
    fields = type(model).model_fields
    members = {
        (fields[name].alias or name): getattr(model, name)
        for name in _compat.field_values(model)
        if name in model.model_fields_set
    }
    members.update(model.__pydantic_extra__ or {})
    return members


class LosantRecordModel(LosantModel):
    """An object whose members are also read by API name: ``row["temperature"]``.

    The base of ``DataTableRow``: a row's columns are the table's own, so they are unknown
    keys of the model (``row.temperature`` works too, as for any unknown key);
    ``row["createdAt"]``, ``"temperature" in row`` and ``row.get("label", "")`` read every
    member the same way, by the name the table and the API use.
    """

    def __getitem__(self, key: str) -> Any:
        """A member by API name (a column of a row); ``KeyError`` when it has none."""
        extra = self.__pydantic_extra__
        if extra and key in extra:  # the table's own columns: one lookup, nothing built
            return extra[key]
        name = keys_of(type(self)).get(key)
        if name is None or name not in self.model_fields_set:
            raise KeyError(key)
        return getattr(self, name)

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except (KeyError, TypeError):
            return False
        return True

    def get(self, key: str, default: Any = None) -> Any:
        """A member by API name, or ``default``."""
        try:
            return self[key]
        except KeyError:
            return default

    def keys(self) -> list[str]:
        """The API names of the members this object carries."""
        return list(json_members(self))


class GenericModel(LosantModel):
    """Any JSON object from an endpoint that has no published schema; fields are extras."""


class GenericRootModel(LosantRootModel[Any]):
    """Any non-object JSON (list, string, number, null) from an untyped endpoint."""


def _pickled_response(response: Any) -> Any:
    """The HTTP response a pickled result keeps: no request (its headers hold the token),
    no connection, and known secrets scrubbed from what remains; ``None`` when its body
    was never read (pickling it would read a closed stream)."""
    if not getattr(response, "_content_consumed", False):
        return None
    import copy

    from .. import _secrets

    kept = copy.copy(response)
    kept.request = None
    kept.raw = None
    return _secrets.scrub_response(kept)
