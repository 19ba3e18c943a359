"""Splitting a query Losant would refuse as too big into ones it takes, and merging the answers.

Which calls may be split is a decision about meaning, so it is a short list here: a query
whose answer holds one entry per device (time series, last values) gives the same answer
asked in chunks of devices, merged by device id; a time-series window gives the same
points asked in consecutive windows; a state history gives the same states asked 100 at a
time; a bulk change Losant does at once (``SPLIT_BULK``: device updates, commands) is
sent in chunks of devices, its counts summed, and a part failing part-way raises a
``BulkSplitError`` naming the ids applied and not. Calls that create one thing for a list
of devices (a group, a key, a release) are left to the usual checks; exports, and bulk
changes asked to run as jobs, over the cap are refused with the reason (``NOT_SPLIT``):
their parts would be separate jobs, one result could not wait for them all.

A :class:`Plan` is the flow of one split call and does no I/O: it gives the parts to send,
takes their decoded answers (or a refusal it may cure by asking in smaller parts) and
merges them. :func:`run` drives it for ``API``, :func:`arun` for ``AsyncAPI``; the merged
answer is decoded as the endpoint's model, so it is the type one call would have given.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .limits import DEVICE_IDS_PER_CALL, STATES_PER_CALL

if TYPE_CHECKING:
    import requests

    from ._async_pipeline import AsyncPipeline
    from ._flows import Flow
    from ._pipeline import Pipeline, PipelineBase
    from ._wire import WireCall

log = logging.getLogger("losant_fluent")

#: Queries whose answers are keyed by device id, by where that map sits in the answer:
#: ``"devices"`` for ``{"devices": {id: ...}, ...}``, ``""`` for ``{id: ...}``.
SPLIT_BY_DEVICE: dict[str, str] = {
    "data.timeSeriesQuery": "devices",
    "data.lastValueQuery": "",
}


def device_chunks(endpoint_id: str, body: Any,
                  size: int = DEVICE_IDS_PER_CALL) -> list[dict[str, Any]] | None:
    """The bodies to send instead of ``body``, or ``None`` when it needs no splitting.

    Only the ``deviceIds`` list differs between the parts; each holds at most ``size`` ids
    in the caller's order (duplicates kept once). ``None`` for calls not in
    ``SPLIT_BY_DEVICE``: their bodies go to the usual checks, which name the cap.
    """
    if endpoint_id not in SPLIT_BY_DEVICE or not isinstance(body, Mapping):
        return None
    ids = body.get("deviceIds")
    if not isinstance(ids, Sequence) or isinstance(ids, str) or len(ids) <= size:
        return None
    unique = list(dict.fromkeys(ids))
    return [{**body, "deviceIds": unique[at:at + size]} for at in range(0, len(unique), size)]


def merge_device_answers(endpoint_id: str, answers: Sequence[Any]) -> Any:
    """One answer from the decoded answers of the parts, as if asked in one call.

    The per-device maps are joined in the order of the parts; every other member is taken
    from the first answer (the parts asked the same window, resolution and aggregation).
    """
    where = SPLIT_BY_DEVICE[endpoint_id]
    if not answers:
        raise ValueError("merge_device_answers: no answers to merge")
    if where == "":
        merged: dict[str, Any] = {}
        for answer in answers:
            merged.update(answer)
        return merged
    devices: dict[str, Any] = {}
    for answer in answers:
        devices.update(answer.get(where) or {})
    return {**answers[0], where: devices}


# -- the flow: parts to send, answers merged (one for API, one for AsyncAPI drive it) -----------

#: Calls with a ``deviceIds`` cap that are *not* split, and why (said instead of splitting).
NOT_SPLIT: dict[str, str] = {
    "data.export": "the parts would be separate export jobs writing separate files",
    "devices.export": "the parts would be separate export jobs writing separate files",
}
#: Bulk changes split in chunks of devices while Losant does them at once (200), by the
#: counts of their answer that are summed (``devices.sendCommand`` answers only
#: ``success``, true when every part's was).
SPLIT_BULK: dict[str, tuple[str, ...]] = {
    "devices.patch": ("updated", "failed", "skipped"),
    "devices.sendCommand": (),
}
#: Body members that ask Losant to run a bulk change as a job (a 202 with a ``jobId``):
#: one result could not wait for the jobs of every part, so such a call is not split.
ASKS_FOR_JOB = ("email", "callbackUrl", "forceJob")
JOB_REASON = ("it asks to run as a job ({member}): its parts would be separate jobs, and one "
              "result could not wait for them all")
#: Halvings of one time window before a too-large answer is given up on.
MAX_HALVINGS = 16
DAY_MS = 86_400_000
DEFAULT_RESOLUTION_MS = 60_000


def _now_ms() -> int:
    return int(time.time() * 1000)


def too_large(error: BaseException) -> bool:
    """Whether ``error`` is Losant refusing an answer over its size cap."""
    status = getattr(error, "status", None)
    message = str(getattr(error, "message", "") or "")
    return status in (400, 413) and "too large" in message.lower()


class Part:
    """One call of a split: its body and keywords, and where its answer goes."""

    __slots__ = ("body", "params", "chunk", "window", "halvings")

    def __init__(self, body: Any, params: dict[str, Any], chunk: tuple[int, ...] = (0,),
                 window: tuple[int, int] | None = None, halvings: int = 0) -> None:
        self.body, self.params, self.chunk = body, params, chunk
        self.window, self.halvings = window, halvings


class Plan:
    """The parts of one split call, in the order they are sent, and their merged answer.

    No I/O: a driver takes :meth:`next` parts, sends each and hands the decoded JSON to
    :meth:`got`, or a refusal to :meth:`refused`; :meth:`merged` is the answer as if
    asked in one call.
    """

    def __init__(self, endpoint_id: str, parts: list[Part]) -> None:
        self.endpoint_id = endpoint_id
        self._todo = list(parts)
        self._answers: list[tuple[Part, Any]] = []
        # A plan of one part is the call as asked, kept in case its answer is too large.
        self._as_asked = parts[0] if len(parts) == 1 else None

    def whole(self, part: Part) -> bool:
        """Whether ``part`` is the call as asked: its answer is the result, decoded as usual."""
        return part is self._as_asked

    def next(self) -> Part | None:
        """The next part to send, or ``None`` when every part was answered."""
        return self._todo.pop(0) if self._todo else None

    def got(self, part: Part, answer: Any) -> None:
        """``part`` was answered with ``answer`` (decoded JSON)."""
        self._answers.append((part, answer))

    def refused(self, part: Part, error: BaseException) -> bool:
        """``True`` when a refusal is cured by asking in smaller parts (queued at once)."""
        return False

    def merged(self) -> Any:
        """One answer from every part's."""
        raise NotImplementedError


class DevicePlan(Plan):
    """Chunks of at most 1,000 ``deviceIds``; answers merged by device id (see module doc)."""

    def merged(self) -> Any:
        return merge_device_answers(self.endpoint_id, [a for _, a in self._answers])


class TimeSeriesPlan(Plan):
    """Time-series queries: device chunks, and parts halved while their answer is too large.

    A part naming more than one device is halved by devices (each half's answer is about
    half as big, whatever makes it big); a part of one device (or chosen by
    ``deviceQuery``) is halved in time. Time halves meet at a multiple of the resolution
    (Losant's buckets start there), so no bucket is cut in two; raw points (aggregation
    ``NONE``) meet at a millisecond, the first half ending one millisecond before the
    second starts: windows are inclusive at both ends, so no point is asked for twice or
    left out.
    """

    def refused(self, part: Part, error: BaseException) -> bool:
        body = _as_dict(part.body)
        if not too_large(error) or body is None:
            return False
        ids = body.get("deviceIds")
        if isinstance(ids, list) and len(ids) > 1 and part.window is None:
            middle_id = len(ids) // 2
            self._todo[:0] = [Part({**body, "deviceIds": ids[:middle_id]}, part.params,
                                   (*part.chunk, 0)),
                              Part({**body, "deviceIds": ids[middle_id:]}, part.params,
                                   (*part.chunk, 1))]
            log.info("time-series query: the answer for %d devices is over Losant's size "
                     "cap; asking for half of them at a time", len(ids))
            return True
        if part.halvings >= MAX_HALVINGS:
            return False
        start, end = part.window or _absolute_window(body)
        step = 1 if _aggregation(body) == "NONE" else _resolution(body)
        middle = (start + (end - start) // 2) // step * step
        if middle <= start:
            middle = start + step
        if middle > end:
            return False        # one bucket (or one millisecond): nothing left to halve
        halves = []
        for window in ((start, middle - 1), (middle, end)):
            half = {k: v for k, v in body.items() if k != "duration"}
            half["start"], half["end"] = window
            halves.append(Part(half, part.params, part.chunk, window, part.halvings + 1))
        log.info("time-series query: the answer for %d..%d is over Losant's size cap; asking "
                 "in two halves", start, end)
        self._todo[:0] = halves
        return True

    def merged(self) -> Any:
        chunks: dict[tuple[int, ...], list[tuple[Part, Any]]] = {}
        for part, answer in self._answers:
            chunks.setdefault(part.chunk, []).append((part, answer))
        per_chunk = [merge_time_answers(_ordered(pieces), _limit(pieces))
                     for _, pieces in sorted(chunks.items())]
        if len(per_chunk) == 1:
            return per_chunk[0]
        return merge_device_answers(self.endpoint_id, per_chunk)


def _ordered(pieces: list[tuple[Part, Any]]) -> list[Any]:
    """Answers of one device chunk in time order (``order: desc``: newest first)."""
    if len(pieces) == 1:
        return [pieces[0][1]]
    descending = pieces[0][0].body.get("order") == "desc"
    ordered = sorted(pieces, key=lambda piece: (piece[0].window or (0, 0))[0],
                     reverse=descending)
    return [answer for _, answer in ordered]


def _limit(pieces: list[tuple[Part, Any]]) -> int | None:
    """The most points per device one call would have answered: raw queries only."""
    body = pieces[0][0].body
    if _aggregation(body) != "NONE":
        return None
    limit = body.get("limit", pieces[0][1].get("limit"))   # asked, else Losant's default
    return int(limit) if isinstance(limit, (int, float)) and not isinstance(limit, bool) \
        else None


def merge_time_answers(answers: list[Any], limit: int | None = None) -> Any:
    """One time-series answer from answers over consecutive windows, in answer order.

    Points are joined per device; a point equal to the one just before it across a seam
    is kept once. ``start`` comes from the first window's answer and ``end`` from the
    last (for ``order: desc`` the other way round), ``limit`` is applied again.
    """
    if len(answers) == 1:
        return answers[0]
    first = answers[0]
    devices: dict[str, Any] = {}
    for answer in answers:
        for device_id, entry in (answer.get("devices") or {}).items():
            kept = devices.get(device_id)
            if kept is None:
                devices[device_id] = {**entry, "points": list(entry.get("points") or [])}
                continue
            points = entry.get("points") or []
            if points and kept["points"] and kept["points"][-1] == points[0]:
                points = points[1:]
            kept["points"].extend(points)
    if limit is not None:
        for entry in devices.values():
            del entry["points"][limit:]
    times = sorted((a.get("start"), a.get("end")) for a in answers if a.get("start"))
    merged = {**first, "devices": devices}
    if times:
        merged["start"], merged["end"] = times[0][0], max(t[1] for t in times)
    return merged


def _aggregation(body: Mapping[str, Any]) -> str:
    aggregation = body.get("aggregation", "MEAN")
    kind = aggregation.get("type") if isinstance(aggregation, Mapping) else aggregation
    return str(kind)


def _resolution(body: Mapping[str, Any]) -> int:
    resolution = body.get("resolution")
    return int(resolution) if isinstance(resolution, (int, float)) and resolution >= 1 \
        else DEFAULT_RESOLUTION_MS


def _absolute_window(body: Mapping[str, Any]) -> tuple[int, int]:
    """``start``/``end`` in epoch ms, as Losant reads them (zero or negative: from now;
    ``end`` defaults to now, ``start`` to ``end - duration``, a day by default)."""
    now = _now_ms()

    def absolute(value: Any) -> int:
        number = int(value)
        return now + number if number <= 0 else number

    end = absolute(body.get("end", 0))
    if "start" in body:
        return absolute(body["start"]), end
    return end - int(body.get("duration", DAY_MS)), end


def plan(endpoint_id: str, body: Any, params: Mapping[str, Any]) -> Plan | None:
    """The split of a call, or ``None`` when it goes as one call.

    Raises ``ValueError`` for a call over the ``deviceIds`` cap that must not be split
    (``NOT_SPLIT`` says why). Every time-series query gets a plan: its answer may turn out
    too large, which only Losant can tell.
    """
    if endpoint_id in NOT_SPLIT and isinstance(body, Mapping):
        ids = body.get("deviceIds")
        if isinstance(ids, Sequence) and not isinstance(ids, str) and (
            len(ids) > DEVICE_IDS_PER_CALL
        ):
            raise ValueError(
                f"{endpoint_id}: deviceIds holds {len(ids)} ids, Losant takes at most "
                f"{DEVICE_IDS_PER_CALL} per call, and the client does not split this call: "
                f"{NOT_SPLIT[endpoint_id]}. Select the devices with deviceQuery or "
                "deviceTags instead, or send the parts yourself")
    if endpoint_id in SPLIT_BULK:
        return bulk_plan(endpoint_id, body, params)
    if endpoint_id == "device.getState":
        return state_plan(params)
    if endpoint_id not in SPLIT_BY_DEVICE:
        return None
    as_dict = _as_dict(body)
    chunks = device_chunks(endpoint_id, as_dict) if as_dict is not None else None
    given = dict(params)
    if endpoint_id == "data.timeSeriesQuery" and as_dict is not None:
        bodies = chunks if chunks is not None else [body]   # as given, unless in chunks
        return TimeSeriesPlan(endpoint_id,
                              [Part(b, given, (i,)) for i, b in enumerate(bodies)])
    if chunks is None:
        return None
    return DevicePlan(endpoint_id, [Part(b, given, (i,)) for i, b in enumerate(chunks)])


def _as_dict(body: Any) -> dict[str, Any] | None:
    """A query body as plain JSON data (a model is dumped by its API names), or ``None``."""
    if isinstance(body, Mapping):
        return dict(body)
    dump = getattr(body, "model_dump", None)
    if callable(dump):
        dumped = dump(mode="json", by_alias=True, exclude_none=True)
        return dumped if isinstance(dumped, dict) else None
    return None


# -- bulk changes: chunks of devices, counts summed, a failure part-way named ----------------


class BulkPlan(Plan):
    """A bulk change in chunks of at most 1,000 ``deviceIds``, sent one after the other.

    Each part is a write: none is ever sent twice. The merged answer sums the counts
    ``SPLIT_BULK`` names (``success`` is true only when every part's was); the other members
    come from the first part, and when several parts give a ``logLink`` (each its own log)
    ``logLinks`` lists them all. A part that fails, or that Losant queues as a job, stops the
    call: :meth:`failed` and :meth:`queued` give the ``BulkSplitError`` naming the ids
    applied, not applied, and those whose fate is unknown.
    """

    def __init__(self, endpoint_id: str, parts: list[Part]) -> None:
        super().__init__(endpoint_id, parts)
        self._all = list(parts)

    def merged(self) -> Any:
        answers = [answer for _, answer in self._answers]
        merged = dict(answers[0]) if isinstance(answers[0], Mapping) else {}
        for count in SPLIT_BULK[self.endpoint_id]:
            values = [a.get(count) for a in answers if isinstance(a, Mapping)]
            if any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                merged[count] = sum(v for v in values
                                    if isinstance(v, (int, float)) and not isinstance(v, bool))
        links = [a["logLink"] for a in answers
                 if isinstance(a, Mapping) and isinstance(a.get("logLink"), str)]
        if len(links) > 1:  # each part wrote its own log: the first is logLink, all kept
            merged["logLinks"] = links
        if "success" in merged or not SPLIT_BULK[self.endpoint_id]:
            merged["success"] = all(isinstance(a, Mapping) and a.get("success") is True
                                    for a in answers)
        return merged

    def _ids(self, parts: Sequence[Part]) -> list[str]:
        return [i for part in parts for i in part.body["deviceIds"]]

    def failed(self, part: Part, error: BaseException) -> BaseException:
        """The error to raise when ``part`` failed with ``error`` (after earlier parts)."""
        from ._exceptions import APIError, TransportError

        done = [p for p, _ in self._answers]
        later = self._all[self._all.index(part) + 1:]
        # Losant checks a body before changing anything: a refusal (an HTTP error) left the
        # part undone; an answer lost on the way may come after the change was made.
        lost = (isinstance(error, TransportError) and error.may_have_been_received) or (
            isinstance(error, APIError) and (error.status or 0) >= 500)
        if not lost and not done:
            return error                      # nothing applied: the part's own error says it
        unknown = [part] if lost else []
        not_sent = later if lost else [part, *later]
        return self._error(f"part {self._all.index(part) + 1} failed ({error})", done,
                           not_sent, unknown, [])

    def queued(self, part: Part, job: Any) -> BaseException:
        """The error to raise when Losant queued ``part`` as a job (``job``, waitable)."""
        done = [p for p, _ in self._answers] + [part]
        later = self._all[self._all.index(part) + 1:]
        return self._error(
            f"Losant queued part {self._all.index(part) + 1} as job "
            f"{getattr(job, 'job_id', '?')} (wait with error.jobs[0].wait()); the rest was "
            "not sent, as one result could not wait for the jobs of every part", done,
            later, [], [job])

    def _error(self, what: str, done: list[Part], not_sent: list[Part],
               unknown: list[Part], jobs: list[Any]) -> BaseException:
        from ._exceptions import BulkSplitError

        applied, not_applied, maybe = self._ids(done), self._ids(not_sent), self._ids(unknown)
        text = (f"{self.endpoint_id}: sent in {len(self._all)} parts of at most "
                f"{DEVICE_IDS_PER_CALL} deviceIds; {what}. Applied to {len(applied)} "
                f"devices{_span(applied)}, not applied to {len(not_applied)}"
                f"{_span(not_applied)}")
        if maybe:
            text += f", unknown for {len(maybe)}{_span(maybe)} (the answer was lost)"
        text += (". Nothing was resent: error.applied, error.not_applied and error.unknown "
                 "list the ids; send error.not_applied again when ready")
        return BulkSplitError(text, applied=applied, not_applied=not_applied, unknown=maybe,
                              jobs=jobs)


def _span(ids: list[str]) -> str:
    """The first and last of ``ids``, for a message (the error holds them all)."""
    if not ids:
        return ""
    return f" ({ids[0]})" if len(ids) == 1 else f" ({ids[0]} .. {ids[-1]})"


def bulk_plan(endpoint_id: str, body: Any, params: Mapping[str, Any]) -> BulkPlan | None:
    """The chunks of a bulk change over the ``deviceIds`` cap, or ``None`` for one call.

    Raises ``ValueError`` when such a call asks to run as a job (``ASKS_FOR_JOB``).
    """
    as_dict = _as_dict(body)
    if as_dict is None:
        return None
    ids = as_dict.get("deviceIds")
    if not isinstance(ids, Sequence) or isinstance(ids, str) or len(ids) <= DEVICE_IDS_PER_CALL:
        return None
    for member in ASKS_FOR_JOB:
        if as_dict.get(member) or params.get(member):
            raise ValueError(
                f"{endpoint_id}: deviceIds holds {len(ids)} ids, Losant takes at most "
                f"{DEVICE_IDS_PER_CALL} per call, and the client does not split this call: "
                f"{JOB_REASON.format(member=member)}. Select the devices with query (or "
                "deviceQuery/deviceTags) instead, leave out "
                f"{'/'.join(ASKS_FOR_JOB)} to have it split, or send the parts yourself")
    unique = list(dict.fromkeys(ids))
    given = dict(params)
    return BulkPlan(endpoint_id, [
        Part({**as_dict, "deviceIds": unique[at:at + DEVICE_IDS_PER_CALL]}, given, (n,))
        for n, at in enumerate(range(0, len(unique), DEVICE_IDS_PER_CALL))])


# -- state history: more than 100 states stepped through -------------------------------------


class StatePlan(Plan):
    """``device.getState`` with ``limit`` over 100: the newest states, 100 at a time.

    Each step asks for the states up to (and including) the time of the oldest one seen,
    newest first, and drops those it already has at that very millisecond: no state is
    lost or repeated where steps meet. The answer comes in the order asked for.
    """

    def __init__(self, params: dict[str, Any], wanted: int) -> None:
        self._wanted = wanted
        self._direction = str(params.get("sortDirection", "desc"))
        self._base = {**params, "sortDirection": "desc"}
        self._states: list[Any] = []
        self._end: Any = params.get("end")
        self._done = False
        super().__init__("device.getState", [self._step()])
        self._as_asked = None          # each step asks for part of the whole

    def _step(self) -> Part:
        # the states already held at the step's end come again: ask for them on top
        boundary = self._states[-1].get("time") if self._states else None
        again = sum(1 for s in self._states if s.get("time") == boundary) if boundary else 0
        left = min(self._wanted - len(self._states) + again, STATES_PER_CALL)
        params = {**self._base, "limit": left}
        if self._end is not None:
            params["end"] = self._end
        return Part(None, params)

    def got(self, part: Part, answer: Any) -> None:
        page = list(answer or [])
        asked = int(part.params["limit"])
        if self._states and page:
            boundary = self._states[-1].get("time")
            already = sum(1 for s in self._states if s.get("time") == boundary)
            at_boundary = [s for s in page if s.get("time") == boundary]
            page = [s for s in page if s.get("time") != boundary] + at_boundary[already:]
            page.sort(key=lambda s: str(s.get("time")), reverse=True)
        self._states.extend(page)
        if len(answer or []) < asked or len(self._states) >= self._wanted or not page:
            return
        oldest = self._states[-1].get("time")
        parsed = _epoch_ms(oldest)
        if parsed is None:
            return
        self._end = parsed
        self._todo.append(self._step())

    def merged(self) -> Any:
        states = self._states[: self._wanted]
        return states if self._direction == "desc" else list(reversed(states))


def _epoch_ms(value: Any) -> int | None:
    """A state's ``time`` (ISO string, epoch ms or ``{"$date": ...}``) in epoch ms."""
    if isinstance(value, Mapping):
        value = value.get("$date")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        text = value.replace("Z", "+0000")
        for form in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
            try:
                return int(datetime.strptime(text, form).timestamp() * 1000)
            except ValueError:
                continue
    return None


def state_plan(params: Mapping[str, Any]) -> StatePlan | None:
    """The steps of a state history over ``STATES_PER_CALL``, or ``None`` for one call."""
    limit = params.get("limit")
    try:
        wanted = int(limit) if limit is not None and not isinstance(limit, bool) else 0
    except (TypeError, ValueError):
        return None                       # the usual checks name the bad value
    if wanted <= STATES_PER_CALL:
        return None
    given = dict(params)
    if "duration" in given and "start" not in given:
        # the window must not move as each step's end does: fix its start now
        end = _epoch_ms(given.get("end")) if given.get("end") is not None else _now_ms()
        given["start"] = (end or _now_ms()) - int(given.pop("duration"))
    return StatePlan(given, wanted)


# -- drivers ----------------------------------------------------------------------------------


def split_flow(pipeline: PipelineBase, split: Plan,
               encode: Callable[[Any, dict[str, Any]], WireCall]) -> Flow[Any]:
    """Every part of ``split`` sent in turn (see ``_flows``): a part Losant refuses as too
    big is split again when the plan can; the result is the merged answer, decoded as the
    endpoint's model (the type one call would have given). Both clients run it."""
    from ._exceptions import APIError, LosantError
    from ._pipeline import send_flow

    last: tuple[WireCall, requests.Response] | None = None
    while (part := split.next()) is not None:
        call = encode(part.body, part.params)
        try:
            response = yield from send_flow(pipeline, call)
        except LosantError as error:
            if isinstance(error, APIError) and split.refused(part, error):
                continue
            if not isinstance(split, BulkPlan):
                raise
            failure = split.failed(part, error)
            if failure is error:
                raise
            raise failure from error
        if split.whole(part):  # one call answered it all: its own answer, as sent
            result = pipeline.decode(call, response)
            return result
        if isinstance(split, BulkPlan) and response.status_code == 202:
            raise split.queued(part, pipeline.decode(call, response))
        split.got(part, pipeline.decode_json(call, response))
        last = call, response
    assert last is not None
    from ._values import dumps

    call, response = last
    return pipeline.decode(call, response, content=dumps(split.merged()))


def run(pipeline: Pipeline, split: Plan, encode: Callable[[Any, dict[str, Any]], WireCall]
        ) -> Any:
    """Send every part of ``split`` through ``pipeline``; return the merged result."""
    from ._flows import run as drive

    return drive(split_flow(pipeline, split, encode), pipeline.perform)


async def arun(pipeline: AsyncPipeline, split: Plan,
               encode: Callable[[Any, dict[str, Any]], WireCall]) -> Any:
    """:func:`run` through an ``AsyncAPI``'s pipeline, awaited."""
    from ._flows import arun as adrive

    return await adrive(split_flow(pipeline, split, encode), pipeline.aperform)
