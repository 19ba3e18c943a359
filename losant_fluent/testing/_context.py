"""What a handler receives (``Ctx``) and the registry mapping endpoint ids to handlers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

from .._catalog import Endpoint
from ._errors import Fault, validation
from ._routes import RouteInfo
from ._store import Settings, Store, TokenInfo

Reply = tuple[int, Any]


@dataclass
class Ctx:
    """One request as a handler sees it: decoded, routed and authorized."""

    store: Store
    settings: Settings
    endpoint: Endpoint
    route: RouteInfo
    args: dict[str, str]
    query: MultiDict[str, str]
    body: Any
    principal: TokenInfo | None

    @property
    def app_id(self) -> str:
        """The ``applicationId`` path parameter."""
        return self.args["applicationId"]

    def parents(self) -> tuple[str, ...]:
        """Values of the path parameters above the endpoint's collection."""
        return tuple(self.args[name] for name in self.route.parent_params)

    def body_dict(self) -> dict[str, Any]:
        """The JSON body, which must be an object (``{}`` when absent)."""
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise validation("The request body must be a JSON object")
        return self.body

    def flag(self, name: str) -> bool:
        """A boolean query parameter (``true``/``false`` strings)."""
        return self.query.get(name, "false").strip().lower() in ("true", "1", "yes")

    def int_arg(self, name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
        """An integer query parameter checked against its bounds (400 otherwise)."""
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise validation(f"{name} must be an integer") from None
        if value < minimum or (maximum is not None and value > maximum):
            upper = f" and at most {maximum}" if maximum is not None else ""
            raise validation(f"{name} must be at least {minimum}{upper}")
        return value

    def default_of(self, name: str, fallback: Any) -> Any:
        """The catalog's default for one of the endpoint's parameters."""
        for param in self.endpoint.params:
            if param.name == name and param.default is not None:
                return param.default
        return fallback


Handler = Callable[[Ctx], Reply]
HANDLERS: dict[str, Handler] = {}


def handles(*endpoint_ids: str) -> Callable[[Handler], Handler]:
    """Register a function as the handler of these endpoints."""

    def register(func: Handler) -> Handler:
        for endpoint_id in endpoint_ids:
            HANDLERS[endpoint_id] = func
        return func

    return register


def require(body: dict[str, Any], *names: str) -> None:
    """400 unless every named field is present in the body."""
    for name in names:
        if body.get(name) in (None, ""):
            raise validation(f"{name} is required")


__all__ = ["Ctx", "Fault", "HANDLERS", "Handler", "Reply", "handles", "require"]
