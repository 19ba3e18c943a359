"""Parsing a big response pauses the garbage collector safely, or not at all.

The pause raises the collector's generation-0 threshold while the JSON becomes models, so
no collection runs over the objects being made. It must never switch on a collector the
application switched off, must hold for every thread parsing at the same time, and must
leave the application's own threshold as it found it.
"""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from losant_fluent.models import Devices
from losant_fluent.models._registry import parse_response_json

BIG = json.dumps({"items": [{
    "id": f"{n:024x}", "name": f"device-{n}", "tags": [{"key": "n", "value": str(n)}],
    "attributes": [{"name": "t", "dataType": "number"}], "connectionInfo": {"connected": 1},
} for n in range(400)], "count": 400}).encode()
SMALL = json.dumps({"items": [], "count": 0}).encode()


@pytest.fixture()
def seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[bool, tuple[int, ...]]]]:
    """What the collector's state was while each response was validated."""
    states: list[tuple[bool, tuple[int, ...]]] = []
    real = Devices.model_validate_json.__func__  # type: ignore[attr-defined]

    def validate_json(cls: Any, content: Any, *, strict: bool | None = None) -> Any:
        states.append((gc.isenabled(), gc.get_threshold()))
        return real(cls, content, strict=strict)

    monkeypatch.setattr(Devices, "model_validate_json", classmethod(validate_json))
    threshold, enabled, enable = gc.get_threshold(), gc.isenabled(), gc.enable
    try:
        yield states
    finally:
        gc.set_threshold(*threshold)
        if enabled:
            enable()


def test_a_big_response_is_parsed_with_no_collection_due_then_the_threshold_is_back(
    seen: list[tuple[bool, tuple[int, ...]]],
) -> None:
    gc.set_threshold(555, 7, 9)
    page = parse_response_json("devices", BIG, None)
    assert len(page.items) == 400
    (enabled, threshold), = seen
    assert enabled and threshold[0] >= 100_000 and threshold[1:] == (7, 9)
    assert gc.get_threshold() == (555, 7, 9) and gc.isenabled()
    parse_response_json("devices", SMALL, None)  # small: nothing to pause
    assert seen[-1][1] == (555, 7, 9)


def test_a_collector_the_application_switched_off_stays_off(
    seen: list[tuple[bool, tuple[int, ...]]], monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse() -> None:
        raise AssertionError("gc.enable() called by the library")

    gc.disable()
    monkeypatch.setattr(gc, "enable", refuse)
    monkeypatch.setattr(gc, "disable", refuse)
    parse_response_json("devices", BIG, None)
    assert not gc.isenabled()
    gc.set_threshold(0)  # automatic collection off by threshold: left at 0
    parse_response_json("devices", BIG, None)
    assert gc.get_threshold()[0] == 0 and seen[-1][1][0] == 0


def test_a_threshold_the_application_sets_during_a_parse_is_kept(
    seen: list[tuple[bool, tuple[int, ...]]], monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = Devices.model_validate_json

    def and_set_threshold(content: Any, *, strict: bool | None = None) -> Any:
        gc.set_threshold(321, 4, 4)  # another thread of the application, say
        return real(content, strict=strict)

    monkeypatch.setattr(Devices, "model_validate_json", and_set_threshold)
    parse_response_json("devices", BIG, None)
    assert gc.get_threshold() == (321, 4, 4)


def test_threads_parsing_at_once_all_parse_paused_and_the_threshold_comes_back(
    seen: list[tuple[bool, tuple[int, ...]]],
) -> None:
    gc.set_threshold(700, 10, 10)
    start = threading.Barrier(8, timeout=60)
    errors: list[BaseException] = []

    def parse() -> None:
        try:
            start.wait()
            for _ in range(15):
                assert len(parse_response_json("devices", BIG, None).items) == 400
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=parse) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    assert len(seen) == 8 * 15
    # every parse ran paused, even while another thread's ended
    assert all(enabled and threshold[0] >= 100_000 for enabled, threshold in seen), set(seen)
    assert gc.get_threshold() == (700, 10, 10) and gc.isenabled()
