"""Real ``inspect.signature``\\ s for the generated verbs, built the first time one is looked up.

A generated verb is written ``def get(self, *body: Never, **params: Unpack[P.DevicesGetParams])``:
type checkers and editors that read the source see each keyword, but ``inspect.signature``
(IPython and Jupyter completion of ``get(per<TAB>``, ``help()``) would show only
``**params``. :func:`install` (called at the end of the generated modules) puts a small
descriptor in place of every verb; the first lookup of a verb builds its signature from its
keyword-parameter type (``_params``), sets it as the function's ``__signature__`` and puts
the plain function back in the class; the keyword types are read only when the signature
is (not when the verb is called). Building all 760 signatures at import would cost more
than the rest of the import, so each is built only when asked for; calling a verb is
unchanged.
"""

from __future__ import annotations

import inspect
import types
from typing import Any

__all__ = ["install", "signature_of"]

_VERBS = ("get", "post", "patch", "put", "delete")


class _Omitted:
    """The default shown for a keyword that may be left out (nothing is sent for it)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "..."


OMITTED = _Omitted()
_UNPACK = "Unpack[P."
_REQUIRED = "Required["


def _annotation(ref: Any) -> tuple[str, bool]:
    """A ``_params`` annotation as written there without ``Required[...]``, and whether it
    had it (with postponed annotations the TypedDict's ``__required_keys__`` cannot tell)."""
    text = str(getattr(ref, "__forward_arg__", ref))
    if text.startswith(_REQUIRED) and text.endswith("]"):
        return text[len(_REQUIRED) : -1], True
    return text, False


def signature_of(func: Any) -> inspect.Signature:
    """The signature of a generated verb with each keyword parameter named and typed.

    The body (when the endpoint takes one) stays positional-only; the endpoint's own
    keywords come next, then the options every verb accepts (``timeout``, ``validate``...).
    A keyword that may be left out shows ``...`` as its default (nothing is sent for it).
    """
    from . import _params

    plain = inspect.signature(func)
    typed_name = str(func.__annotations__.get("params", ""))
    if not (typed_name.startswith(_UNPACK) and typed_name.endswith("]")):
        return plain
    typed = getattr(_params, typed_name[len(_UNPACK) : -1])
    common = set(_params.CallOptions.__annotations__)
    names = [name for name in typed.__annotations__ if name not in common]
    names += [name for name in typed.__annotations__ if name in common]
    kept = [
        p for p in plain.parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)  # ``*body: Never`` takes nothing
    ]
    keywords = []
    for name in names:
        annotation, required = _annotation(typed.__annotations__[name])
        keywords.append(inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=inspect.Parameter.empty if required else OMITTED,
            annotation=annotation,
        ))
    return plain.replace(parameters=kept + keywords)


def _bare(func: Any) -> Any:
    """A copy of ``func`` without its ``__signature__`` (``inspect`` would return that)."""
    copy = types.FunctionType(func.__code__, func.__globals__, func.__name__,
                              func.__defaults__, func.__closure__)
    copy.__kwdefaults__ = func.__kwdefaults__
    copy.__annotations__ = func.__annotations__
    copy.__qualname__ = func.__qualname__
    return copy


class _SignatureOnDemand(inspect.Signature):
    """A verb's signature, built (which imports ``_params``) only when first inspected.

    The first lookup of a verb is usually a call: importing the keyword types then would
    add tens of milliseconds to a process's first request of each verb. Everything
    ``inspect`` reads goes through ``parameters`` and ``return_annotation``, built here on
    first use; ``replace`` and pickling hand out the plain signature.
    """

    __slots__ = ("_built", "_func")

    def __init__(self, func: Any) -> None:  # no super().__init__: nothing is built yet
        self._func = func
        self._built: inspect.Signature | None = None

    def _signature(self) -> inspect.Signature:
        built = self._built
        if built is None:  # two threads may both build it: the results are equal
            built = self._built = signature_of(_bare(self._func))
        return built

    @property
    def parameters(self) -> Any:
        return self._signature().parameters

    @property
    def return_annotation(self) -> Any:
        return self._signature().return_annotation

    # The result is a plain Signature (built already, nothing left to defer), not Self.
    def replace(self, **changes: Any) -> inspect.Signature:  # type: ignore[override]
        return self._signature().replace(**changes)

    # copy.replace (3.13) would otherwise reach the unset base slots; a plain Signature back.
    __replace__ = replace  # type: ignore[assignment]

    def __reduce__(self) -> Any:
        return self._signature().__reduce__()

    def __repr__(self) -> str:
        return repr(self._signature())


class _SignedOnFirstLookup:
    """Stands for a verb in its class until first looked up (see the module docstring)."""

    __slots__ = ("func", "name", "owner")

    def __init__(self, func: Any, name: str, owner: type) -> None:
        self.func = func
        self.name = name
        self.owner = owner

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        func = self.func
        if "__signature__" not in func.__dict__:
            func.__signature__ = _SignatureOnDemand(func)
        setattr(self.owner, self.name, func)  # later lookups find the plain function
        return func if instance is None else types.MethodType(func, instance)


def install(namespace: dict[str, Any]) -> None:
    """Give every verb of the node classes in ``namespace`` its signature on first lookup."""
    for value in list(namespace.values()):
        if not isinstance(value, type):
            continue
        for verb in _VERBS:
            func = value.__dict__.get(verb)
            if isinstance(func, types.FunctionType) and "params" in func.__annotations__:
                setattr(value, verb, _SignedOnFirstLookup(func, verb, value))
