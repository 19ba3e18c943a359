"""Flows: the decisions of a request sequence written once, as generators that do no I/O.

A flow (in the style of httpx's auth flows) yields the next *effect* it needs and is sent
its outcome: :class:`Transmit` a request (the answer comes back, or the ``TransportError``
is thrown into the flow), :class:`Sleep` some seconds, :class:`Renew` a refused token (a
bool comes back). When it returns, its value is the result of the whole sequence.

Two drivers run any flow: :func:`run` with a sync ``perform`` (``API``) and :func:`arun`
with an async one (``AsyncAPI``); :func:`iterate` and :func:`aiterate` run a flow that
also emits values (:class:`Emit`: the events of a stream) as a generator. Each is a few
lines; everything else (retries, renewal after 401, logins, page walks, stream reconnects) is
written once in the flows and state machines (``_pipeline.send_flow``,
``_auth.LoginRenewal.flow``, ``_pagination.WalkState``, ``_streams.stream_flow``,
``_files.download_flow``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ._exceptions import TransportError

if TYPE_CHECKING:
    from ._transport import HTTPRequest

__all__ = [
    "Effect", "Emit", "Flow", "Renew", "Sleep", "Transmit", "aiterate", "arun", "iterate",
    "run",
]

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


@dataclass(frozen=True)
class Emit:
    """Hand ``value`` to whoever iterates the flow (``iterate``/``aiterate``)."""

    __slots__ = ("value",)
    value: Any


Effect = Transmit | Sleep | Renew
# A flow yields the effects above, and flows of longer life (streams) effects of their own
# module as well; a driver's ``perform`` knows them all.
Flow = Generator[Any, Any, T]


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


def iterate(flow: Flow[None], perform: Callable[[Any], Any]) -> Iterator[Any]:
    """Run ``flow``, yielding what it emits and performing every other effect."""
    outcome: Any = None
    failure: TransportError | None = None
    while True:
        try:
            effect = flow.send(outcome) if failure is None else flow.throw(failure)
        except StopIteration:
            return
        if type(effect) is Emit:
            outcome, failure = None, None
            yield effect.value
            continue
        try:
            outcome, failure = perform(effect), None
        except TransportError as exc:
            outcome, failure = None, exc


async def aiterate(flow: Flow[None], perform: Callable[[Any], Awaitable[Any]]
                   ) -> AsyncIterator[Any]:
    """:func:`iterate`, with every effect awaited."""
    outcome: Any = None
    failure: TransportError | None = None
    while True:
        try:
            effect = flow.send(outcome) if failure is None else flow.throw(failure)
        except StopIteration:
            return
        if type(effect) is Emit:
            outcome, failure = None, None
            yield effect.value
            continue
        try:
            outcome, failure = await perform(effect), None
        except TransportError as exc:
            outcome, failure = None, exc
