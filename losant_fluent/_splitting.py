"""Splitting a query Losant would refuse as too big into ones it takes, and merging the answers.

Pure data in, data out: the request bodies of the parts, and the merged decoded JSON of
their answers. Which calls may be split is a decision about meaning, so it is a short
list here: a query whose answer holds one entry per device (time series, last values) gives
the same answer asked in chunks of devices, merged by device id. Calls that create one
thing for a list of devices (a group, a key, a release) or that write (bulk patches and
commands, where a later chunk failing would leave the earlier ones done) are not split.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .limits import DEVICE_IDS_PER_CALL

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
