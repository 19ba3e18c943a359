"""The fluent node: an immutable path on a pipeline, extended one segment at a time.

Generated subclasses (``_resources.py``) add one method per child segment and one verb
method per endpoint; each verb calls :meth:`Node._send`, which builds the call (checked
and encoded by ``_wire``) and hands it to the pipeline (``_pipeline.Pipeline.request``),
which sends it and returns the result. Nodes only build calls.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar

from . import _catalog, _splitting, _wire
from ._results import deliver

if TYPE_CHECKING:
    from ._pipeline import Pipeline, PipelineBase

BodyInput = Mapping[str, Any] | Sequence[Any]
FileInput = Any  # bytes, a path, an open binary file, or (filename, data[, content_type])
_N = TypeVar("_N", bound="Node")
_M = TypeVar("_M", bound="Node")
_VERBS = ("get", "post", "patch", "put", "delete")


class _Missing(enum.Enum):
    """Marker for "no id given" (``None`` is refused as an id)."""

    MISSING = "MISSING"


MISSING: Final = _Missing.MISSING


class Node:
    """A position in the API's URL tree. Building nodes never sends anything."""

    __slots__ = ("_pipeline", "_path")
    _template = "/"
    _pipeline: Pipeline
    _path: str

    # Typed for the sync tree, which is most of the code; ``AsyncNode`` reads its
    # ``AsyncPipeline`` through ``_async_pipeline``.
    def __init__(self, pipeline: PipelineBase, path: str = "") -> None:
        object.__setattr__(self, "_pipeline", pipeline)
        object.__setattr__(self, "_path", path)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._path or '/'}>"

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and isinstance(other, Node)
            and other._pipeline is self._pipeline
            and other._path == self._path
        )

    def __hash__(self) -> int:
        return hash((type(self), id(self._pipeline), self._path))

    def __dir__(self) -> list[str]:
        """Children, verbs and ``at``: what a REPL user can call next."""
        names = {n for cls in type(self).__mro__ for n in vars(cls) if not n.startswith("_")}
        return sorted(names)

    if not TYPE_CHECKING:  # for type checkers an unknown attribute stays an error

        def __getattr__(self, name: str) -> Any:
            """Only reached for a name the node lacks: say that nothing was sent, and why.

            Taken off in IPython, whose completer does not evaluate objects with a
            ``__getattr__`` (see ``_ipython.py``, which writes the same message there).
            """
            if name.startswith("_"):
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            raise AttributeError(missing_attribute(self, name), name=name, obj=self)

    @property
    def path(self) -> str:
        """The URL path of this node, ids percent-encoded (``/applications/abc/devices``)."""
        return self._path or "/"

    def _child(self, segment: str, cls: type[_N]) -> _N:
        return cls(self._pipeline, f"{self._path}/{segment}")

    def _child_or_item(
        self, segment: str, cls: type[_N], ident: object, item_cls: type[_M]
    ) -> _N | _M:
        path = f"{self._path}/{segment}"
        if ident is MISSING:
            return cls(self._pipeline, path)
        return item_cls(self._pipeline, f"{path}/{_wire.encode_segment(ident, f'{segment} id')}")

    def at(self, *segments: str) -> RawNode:
        """Reach a path the catalog does not know yet, below this node.

        Each argument is one path segment, percent-encoded: ``api.at("applications", app_id,
        "newFeature").get(someParam=1)``. The result offers all five verbs, with keyword
        arguments sent as query parameters (``headers=`` and ``files=`` go as such).
        """
        path = self._path
        for segment in segments:
            path += "/" + _wire.encode_segment(segment, "path segment")
        return RawNode(self._pipeline, path)

    def _send(self, endpoint_id: str, body: Any, params: Mapping[str, Any]) -> Any:
        """Build one call of a catalog endpoint and have the pipeline send it.

        A query Losant would refuse as too big goes as several calls, merged (see
        ``_splitting``).
        """
        split = _splitting.plan(endpoint_id, body, params)
        if split is not None:
            return _splitting.run(self._pipeline, split,
                                  lambda part, keywords: self._call(endpoint_id, part, keywords))
        return deliver(self._pipeline, self._call(endpoint_id, body, params))

    def _call(self, endpoint_id: str, body: Any, params: Mapping[str, Any]) -> _wire.WireCall:
        """The checked, encoded call of a catalog endpoint (nothing sent yet)."""
        endpoint = _catalog.endpoint(endpoint_id)
        options = dict(params)
        timeout = options.pop("timeout", None)
        validate = options.pop("validate", None)
        pipeline = self._pipeline
        call = _wire.encode(
            endpoint,
            self._path,
            body,
            options,
            validate=pipeline.options.validate if validate is None else bool(validate),
            timeout=timeout,
        )
        return call


def missing_attribute(node: Node, name: str) -> str:
    """The message of ``node.name`` for a name no node method has (a field, a typo)."""
    import difflib

    cls = type(node).__name__
    names = dir(node)
    verbs = [verb for verb in _VERBS if verb in names]
    close = difflib.get_close_matches(name, [n for n in names if n not in _VERBS], n=1)
    text = f"{cls} has no attribute {name!r}: it is the path {node.path}; nothing was sent."
    if close:
        text += f" Did you mean .{close[0]}()?"
    if verbs:
        asynchronous = cls.startswith("Async")
        call = f"(await node.{verbs[0]}())" if asynchronous else f".{verbs[0]}()"
        text += (
            f" To send the request and read {name!r} from the answer, call a verb first: "
            f"{call}.{name} (verbs here: {', '.join(verbs)})."
        )
    else:
        text += " This path has no verbs of its own: dir() lists where it leads."
    return text


class RawNode(Node):
    """A node outside the catalog (see :meth:`Node.at`): any verb, any parameter."""

    __slots__ = ()

    def _raw(
        self,
        method: str,
        body: Any,
        headers: Mapping[str, str] | None,
        files: Any,
        timeout: float | None,
        query: Mapping[str, Any],
    ) -> Any:
        call = _wire.encode_raw(method, self._path, body, query, headers, files, timeout)
        return deliver(self._pipeline, call)

    def get(
        self, *, headers: Mapping[str, str] | None = None, timeout: float | None = None,
        **query: Any,
    ) -> Any:
        """Send GET to this path; keywords become query parameters."""
        return self._raw("GET", None, headers, None, timeout, query)

    def delete(
        self, body: Any = None, /, *, headers: Mapping[str, str] | None = None,
        timeout: float | None = None, **query: Any,
    ) -> Any:
        """Send DELETE to this path."""
        return self._raw("DELETE", body, headers, None, timeout, query)

    def post(
        self, body: Any = None, /, *, headers: Mapping[str, str] | None = None,
        files: Any = None, timeout: float | None = None, **query: Any,
    ) -> Any:
        """Send POST with ``body`` as JSON (or ``files`` as multipart) to this path."""
        return self._raw("POST", body, headers, files, timeout, query)

    def patch(
        self, body: Any = None, /, *, headers: Mapping[str, str] | None = None,
        timeout: float | None = None, **query: Any,
    ) -> Any:
        """Send PATCH with ``body`` as JSON to this path."""
        return self._raw("PATCH", body, headers, None, timeout, query)

    def put(
        self, body: Any = None, /, *, headers: Mapping[str, str] | None = None,
        timeout: float | None = None, **query: Any,
    ) -> Any:
        """Send PUT with ``body`` as JSON to this path."""
        return self._raw("PUT", body, headers, None, timeout, query)
