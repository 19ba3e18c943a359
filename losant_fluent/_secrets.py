"""Secrets the client knows, and scrubbing them out of every text an error or a log line holds.

Every token, password, API key and secret, OAuth client secret and refresh token, and
signed upload field the client is given or receives is :func:`register`-ed here. Whatever
text then enters a ``LosantError`` (its message, Losant's ``message`` and ``body``, the
answer's body, its ``repr`` and pickle) or a ``losant_fluent`` log line has every form of
every registered secret (as is, JSON-escaped, URL-encoded, base64 in a Basic header)
replaced by ``***``, whoever wrote that text: a server or proxy that echoes the request
included. :func:`check` refuses a secret with whitespace around it (pasted from a file
with its newline) with a message that names the parameter, never the value.

The registry is process-wide and bounded: scrubbing another client's secret from an error
is harmless, and renewed tokens do not pile up. A secret registered with an ``owner`` (an
``API``'s token, the stored password of a login, an OAuth client secret) stays as long as
its owner lives, however many come after; the others, the most recent
:data:`MAX_SECRETS`.
Texts too short to be secrets (under :data:`MIN_LENGTH` characters) are not scrubbed, so
that short passwords do not garble every message.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = ["MASK", "Hold", "LogFilter", "check", "let_go", "register", "scrub", "scrub_bytes",
           "scrub_data"]

MASK = "***"
MAX_SECRETS = 256
MIN_LENGTH = 5

# secret -> its forms, most recent last; changed under _lock only. Scrubbing reads
# _all_forms, a snapshot replaced whole: never a dict changing while it is read.
_known: OrderedDict[str, tuple[str, ...]] = OrderedDict()
_all_forms: tuple[str, ...] = ()
_lock = threading.Lock()
# secret -> how many live owners hold it: never dropped while above 0.
_pinned: dict[str, int] = {}
# Secrets whose owner is gone, unpinned at the next register: an owner's finalizer may run
# in any thread, inside ``_lock`` included, so it only appends (atomic) and never locks.
_released: list[str] = []


def _new_lock() -> None:
    global _lock
    _lock = threading.Lock()  # a forked child: the parent's threads are gone


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock)


def _forms(secret: str) -> tuple[str, ...]:
    """The ways a secret shows up in text: raw, JSON-escaped, URL-encoded, repr-escaped."""
    forms = {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret),
             repr(secret)[1:-1]}
    return tuple(sorted(forms, key=len, reverse=True))


# An owner's hold on its secrets: finalizers, each called once at most (early: let go).
Hold = tuple[Callable[[], object], ...]


def register(*secrets: str | None, basic_user: str | None = None,
             owner: object | None = None) -> Hold:
    """Remember secrets to scrub; ``basic_user`` also covers ``user:secret`` in base64
    (HTTP Basic authentication, as OAuth token endpoints are sent a client secret).

    With an ``owner``, they are kept (never dropped for newer ones) while it lives, or
    until the returned hold is called (a replaced token: :func:`let_go`).
    """
    global _all_forms
    values: list[str] = []
    hold: list[Callable[[], object]] = []
    for secret in secrets:
        if not isinstance(secret, str) or len(secret) < MIN_LENGTH:
            continue
        values.append(secret)
        if basic_user is not None:
            values.append(base64.b64encode(f"{basic_user}:{secret}".encode()).decode())
    if not values:
        return ()
    with _lock:
        while _released:
            _unpin(_released.pop())
        for value in values:
            _known.pop(value, None)
            _known[value] = _forms(value)
            if owner is not None:
                _pinned[value] = _pinned.get(value, 0) + 1
                hold.append(weakref.finalize(owner, _released.append, value))
        _drop_oldest()
        forms = {form for group in _known.values() for form in group}
        _all_forms = tuple(sorted(forms, key=len, reverse=True))
    return tuple(hold)


def let_go(hold: Hold) -> None:
    """End an owner's hold on its secrets early (each finalizer runs once at most)."""
    for finalizer in hold:
        finalizer()


def _unpin(value: str) -> None:
    held = _pinned.get(value, 0) - 1
    if held > 0:
        _pinned[value] = held
    else:
        _pinned.pop(value, None)


def _drop_oldest() -> None:
    """Drop the oldest secrets no owner holds, down to :data:`MAX_SECRETS` of them."""
    excess = len(_known) - len(_pinned) - MAX_SECRETS
    if excess <= 0:
        return
    for value in [value for value in _known if value not in _pinned][:excess]:
        del _known[value]


def check(name: str, value: str | None) -> str | None:
    """``value`` unchanged, or ``ValueError`` naming ``name`` when whitespace surrounds it or
    a line break is in it (a header carrying it would be refused, showing the value)."""
    if value is None or not isinstance(value, str):
        return value
    if value != value.strip() or "\n" in value or "\r" in value or "\0" in value:
        raise ValueError(
            f"{name} has whitespace or a line break around or in it (pasted from a file?); "
            f"strip it first, e.g. {name}.strip() (the value is not shown)"
        )
    return value


def scrub(text: str) -> str:
    """``text`` with every form of every registered secret replaced by ``***``."""
    forms = _all_forms
    if not forms or not text:
        return text
    for form in forms:  # longest first: a secret inside another is masked with it
        if form in text:
            text = text.replace(form, MASK)
    return text


def scrub_bytes(content: bytes) -> bytes:
    """:func:`scrub` for a body (UTF-8; other bytes pass through)."""
    if not _all_forms or not content:
        return content
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
        return scrub(text).encode("latin-1", "replace")
    cleaned = scrub(text)
    return content if cleaned == text else cleaned.encode("utf-8")


def scrub_data(value: Any, depth: int = 0) -> Any:
    """JSON-like data (a decoded body) with secrets scrubbed from every text in it."""
    if not _all_forms or depth > 200:
        return value
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub(k) if isinstance(k, str) else k: scrub_data(v, depth + 1)
                for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_data(item, depth + 1) for item in value]
    return value


def scrub_response(response: Any) -> Any:
    """An answer kept by an error, scrubbed: the same object (its header values and what
    was sent scrubbed in place) unless its read body holds a secret; then a copy with the
    body scrubbed, built through the public constructors of its library (the body a
    ``requests``/``httpx`` response has read is not replaceable in place)."""
    if response is None or not _all_forms:
        return response
    _scrub_headers(getattr(response, "headers", None))
    request = getattr(response, "request", None)  # what was sent: the token, a body
    if request is not None:
        _scrub_headers(getattr(request, "headers", None))
        for name in ("body", "data"):  # a PreparedRequest's body, a Request's data
            body = getattr(request, name, None)
            if isinstance(body, bytes):
                setattr(request, name, scrub_bytes(body))
            elif isinstance(body, str):
                setattr(request, name, scrub(body))
    content = _read_body(response)
    if content is None:
        return response
    cleaned = scrub_bytes(content)
    if cleaned == content:
        return response
    return _with_body(response, cleaned)


def _read_body(response: Any) -> bytes | None:
    """The body ``response`` has read already, or ``None`` (never read from the network)."""
    if hasattr(response, "is_stream_consumed"):  # httpx: read, or ResponseNotRead
        try:
            content = response.content
        except Exception:  # noqa: BLE001 - httpx.ResponseNotRead: nothing to scrub
            return None
        return content if isinstance(content, bytes) else None
    # requests: the body is read when ``content`` is no longer its ``False`` sentinel.
    content = getattr(response, "_content", None)
    return content if isinstance(content, bytes) else None


def _with_body(response: Any, body: bytes) -> Any:
    """A copy of ``response`` (requests or httpx) with ``body`` as its read body."""
    if hasattr(response, "is_stream_consumed"):  # httpx
        return type(response)(response.status_code, headers=response.headers, content=body,
                              request=response.request, extensions=response.extensions)
    import io

    import requests

    copy = requests.Response()
    for name in ("status_code", "headers", "url", "reason", "encoding", "elapsed", "history",
                 "cookies", "request", "connection"):
        if hasattr(response, name):
            setattr(copy, name, getattr(response, name))
    # requests reads and keeps the body itself from a public file-like ``raw``.
    copy.raw = io.BytesIO(body)
    copy.content  # noqa: B018 - read for its effect
    copy.raw = io.BytesIO(body)
    return copy


def _scrub_headers(headers: Any) -> None:
    if headers is None:
        return
    try:
        for name, value in list(headers.items()):
            if isinstance(value, str):
                cleaned = scrub(value)
                if cleaned != value:
                    headers[name] = cleaned
    except Exception:  # noqa: BLE001 - an odd header mapping: leave it
        pass


class LogFilter(logging.Filter):
    """Scrubs the ``losant_fluent`` logger's records (message and arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _all_forms:
            message = record.getMessage()
            cleaned = scrub(message)
            if cleaned != message:
                record.msg, record.args = cleaned, ()
        return True
