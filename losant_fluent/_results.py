"""What a call gives back, decided once for both clients: a model, a page that walks on,
or an event stream.

The catalog says which endpoints stream (``sse``) and which page (``pagination``);
:func:`kind` reads it, and :func:`deliver` (``API``) and :func:`adeliver` (``AsyncAPI``)
build the result of that kind. A page is decoded by :func:`decode`, which gives it the
pager that walks the pages after it. The pipeline below only sends and decodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from ._flows import arun, run
from ._jobs import takes_turn, turn_flow
from ._pagination import decode_page

if TYPE_CHECKING:
    import requests

    from ._async_pipeline import AsyncPipeline
    from ._pipeline import Pipeline, PipelineBase
    from ._wire import WireCall

__all__ = ["adeliver", "decode", "deliver", "kind"]

Kind = Literal["model", "paged", "stream"]


def kind(call: WireCall) -> Kind:
    """Whether ``call`` answers with one model, a page of a collection, or an event stream."""
    endpoint = call.endpoint
    if endpoint is None:
        return "model"
    if endpoint.sse:
        return "stream"
    return "paged" if endpoint.pagination else "model"


def decode(pipeline: PipelineBase, call: WireCall, response: requests.Response,
           eager: bool = False) -> Any:
    """The result of an answer: the endpoint's model, a page with its pager attached."""
    if kind(call) == "paged":
        return decode_page(pipeline, call, response, eager)
    return pipeline.decode(call, response, eager=eager)


def deliver(pipeline: Pipeline, call: WireCall) -> Any:
    """Send ``call`` through a sync pipeline: its model, first page, or open stream."""
    if kind(call) == "stream":
        from ._streams import EventStream

        return EventStream(pipeline, call, pipeline.send(call, stream=True))
    if takes_turn(pipeline, call):  # a job Losant runs one at a time: after the last one
        return run(turn_flow(pipeline, call), pipeline.perform)
    return decode(pipeline, call, pipeline.send(call))


def adeliver(pipeline: AsyncPipeline, call: WireCall) -> Any:
    """``deliver`` for an async pipeline: a stream or a paged call is returned unopened
    (opened when awaited or iterated); a model call is a coroutine to await."""
    what = kind(call)
    if what == "stream":
        from ._async_streams import AsyncEventStream

        return AsyncEventStream(pipeline, call)
    if what == "paged":
        from ._async_pagination import AsyncPaged

        return AsyncPaged(pipeline, call)
    return _amodel(pipeline, call)


async def _amodel(pipeline: AsyncPipeline, call: WireCall) -> Any:
    if takes_turn(pipeline, call):
        return await arun(turn_flow(pipeline, call), pipeline.aperform)
    return decode(pipeline, call, await pipeline.asend(call))
