"""Server-Sent-Event results (device ``stateStream``/``commandStream``, MQTT subscriptions)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests
    from typing_extensions import Self

    from ._pipeline import Pipeline
    from ._wire import WireCall


@dataclass(frozen=True)
class ServerSentEvent:
    """One event: its ``event`` name, raw ``data`` text and ``json()`` to decode it."""

    event: str
    data: str
    id: str | None = None

    def json(self) -> Any:
        """The event's data decoded as JSON."""
        return json.loads(self.data)


class EventStream:
    """Iterate over the events of a streaming endpoint as they arrive; close when done."""

    def __init__(self, pipeline: Pipeline, call: WireCall, response: requests.Response) -> None:
        self._pipeline = pipeline
        self._call = call
        self._response = response

    def http_response(self) -> requests.Response:
        """The underlying (streamed) ``requests.Response``."""
        return self._response

    def __iter__(self) -> Iterator[ServerSentEvent]:
        event = "message"
        event_id: str | None = None
        data: list[str] = []
        for raw in self._response.iter_lines(decode_unicode=True):
            line = raw if isinstance(raw, str) else raw.decode("utf-8")
            if not line:
                if data:
                    yield ServerSentEvent(event, "\n".join(data), event_id)
                event, data, event_id = "message", [], None
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
            elif name == "id":
                event_id = value
        if data:
            yield ServerSentEvent(event, "\n".join(data), event_id)

    def close(self) -> None:
        """Stop listening and release the connection."""
        self._response.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
