"""The one exception the emulator's handlers raise to answer with a Losant error body."""

from __future__ import annotations

from typing import Any


class Fault(Exception):
    """An HTTP error answer in Losant's shape: ``{"type": ..., "message": ...}``.

    Handlers raise it anywhere; the WSGI app turns it into the JSON response.
    """

    def __init__(
        self,
        status: int,
        type: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type
        self.message = message
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The JSON document sent back for this error."""
        return {"type": self.type, "message": self.message}


def not_found(what: str) -> Fault:
    """404 for a missing resource, worded like Losant's ("Device was not found")."""
    return Fault(404, "NotFound", f"{what} was not found")


def validation(message: str) -> Fault:
    """400 ``Validation`` error for a malformed request."""
    return Fault(400, "Validation", message)
