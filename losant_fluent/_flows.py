"""Flows: the decisions of a request sequence written once, as generators that do no I/O.

A flow (in the style of httpx's auth flows) yields the next *effect* it needs and is sent
its outcome: :class:`Transmit` a request (the answer comes back, or the ``TransportError``
is thrown into the flow), :class:`Sleep` some seconds, :class:`Renew` a refused token (a
bool comes back). When it returns, its value is the result of the whole sequence.

Two drivers run any flow: :func:`run` with a sync ``perform`` (``API``) and :func:`arun`
with an async one (``AsyncAPI``). Each is a few lines; everything else, retries, renewal
after 401, logins, is written once in the flows (``_pipeline.send_flow``...).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ._exceptions import TransportError

if TYPE_CHECKING:
    from ._transport import HTTPRequest

__all__ = ["Effect", "Flow", "Renew", "Sleep", "Transmit", "arun", "run"]

T = TypeVar("T")


@dataclass(frozen=True)
class Transmit:
    """Send ``request``; the flow is sent the response, or has the ``TransportError``
    thrown in."""

    __slots__ = ("request", "timeout", "stream")
    request: HTTPRequest
    timeout: float | None
    stream: bool


@dataclass(frozen=True)
class Sleep:
    """Wait ``seconds`` before the flow goes on."""

    __slots__ = ("seconds",)
    seconds: float


@dataclass(frozen=True)
class Renew:
    """Renew the token refused with ``token_used`` (once for many callers); the flow is
    sent ``True`` when it may re-send."""

    __slots__ = ("token_used",)
    token_used: str


Effect = Transmit | Sleep | Renew
Flow = Generator[Effect, Any, T]


def run(flow: Flow[T], perform: Callable[[Effect], Any]) -> T:
    """Drive ``flow`` to its result, performing each effect synchronously."""
    outcome: Any = None
    failure: TransportError | None = None
    while True:
        try:
            effect = flow.send(outcome) if failure is None else flow.throw(failure)
        except StopIteration as done:
            result: T = done.value
            return result
        try:
            outcome, failure = perform(effect), None
        except TransportError as exc:
            outcome, failure = None, exc


async def arun(flow: Flow[T], perform: Callable[[Effect], Awaitable[Any]]) -> T:
    """Drive ``flow`` to its result, awaiting each effect."""
    outcome: Any = None
    failure: TransportError | None = None
    while True:
        try:
            effect = flow.send(outcome) if failure is None else flow.throw(failure)
        except StopIteration as done:
            result: T = done.value
            return result
        try:
            outcome, failure = await perform(effect), None
        except TransportError as exc:
            outcome, failure = None, exc
