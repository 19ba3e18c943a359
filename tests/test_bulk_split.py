"""Bulk changes over 1,000 deviceIds sent in chunks: device updates and commands.

Against the emulator (its deviceIds cap on): the parts each hold at most 1,000 ids, every
device is changed exactly once, and the merged answer is the endpoint's model with the
counts summed. A scripted loopback server fails a part mid-way (refused, lost, queued as
a job): the ``BulkSplitError`` names the ids applied and not, and nothing is resent.
"""

from __future__ import annotations

import asyncio
import json
import pickle
from collections.abc import Iterator
from typing import Any

import pytest
from fault_server import Action, FaultServer, Received, drop, reply

from losant_fluent import API, BulkSplitError, limits
from losant_fluent.models import DevicesUpdated, JobEnqueuedResult, Success
from losant_fluent.testing import Emulator

APP = "a" * 24


@pytest.fixture(scope="module")
def shared() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def emu(shared: Emulator) -> Emulator:
    shared.reset()
    return shared


def _ids(count: int) -> list[str]:
    return [f"{n:024x}" for n in range(count)]


def _bodies(received: list[Received]) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in received]


# -- against the emulator ---------------------------------------------------------------------


def test_a_2500_device_update_is_sent_in_three_parts_and_its_counts_summed(
        emu: Emulator) -> None:
    ids = emu.seed_devices(2500)
    api = API(emu.url, emu.user_token())
    result = api.applications(emu.application_id).devices().patch(
        {"deviceIds": ids, "updateFields": {"description": "moved"}})
    assert isinstance(result, DevicesUpdated)
    assert (result.updated, result.failed, result.skipped) == (2500, 0, 0)
    with emu.store.lock:
        descriptions = {d["id"]: d.get("description") for d in _emu_devices(emu)}
    assert {descriptions[i] for i in ids} == {"moved"}


def test_the_emulator_refuses_more_than_1000_ids_in_one_bulk_call(emu: Emulator) -> None:
    # What the split avoids: Losant's cap, played by the emulator (raw, unsplit).
    ids = emu.seed_devices(1001)
    import requests

    answer = requests.patch(
        f"{emu.url}/applications/{emu.application_id}/devices",
        json={"deviceIds": ids, "updateFields": {"description": "x"}},
        headers={"Authorization": f"Bearer {emu.user_token()}"}, timeout=30)
    assert answer.status_code == 400


def test_a_2500_device_command_reaches_each_device_once_sync_and_async(emu: Emulator) -> None:
    ids = emu.seed_devices(2500)
    api = API(emu.url, emu.user_token())
    result = api.applications(emu.application_id).devices().command().post(
        {"deviceIds": ids, "name": "reboot"})
    assert isinstance(result, Success) and result.success is True
    from losant_fluent import AsyncAPI

    async def main() -> Any:
        async with AsyncAPI(emu.url, emu.user_token()) as aapi:
            return await aapi.applications(emu.application_id).devices().command().post(
                {"deviceIds": ids, "name": "halt"})

    aresult = asyncio.run(main())
    assert isinstance(aresult, Success) and aresult.success is True
    with emu.store.lock:
        names = {i: [c["name"] for _t, c in emu.store.commands.get(i, [])] for i in ids}
    assert all(sorted(n) == ["halt", "reboot"] for n in names.values())


def test_a_bulk_change_asked_to_run_as_a_job_is_refused_before_sending(emu: Emulator) -> None:
    ids = emu.seed_devices(1500)
    api = API(emu.url, emu.user_token())
    with pytest.raises(ValueError, match="run as a job") as raised:
        api.applications(emu.application_id).devices().patch(
            {"deviceIds": ids, "updateFields": {"description": "x"}, "email": "ops@example.com"})
    assert "email" in str(raised.value) and "query" in str(raised.value)
    with emu.store.lock:
        assert not any(d.get("description") == "x" for d in _emu_devices(emu))
    # at or under the cap it is one call, as asked: a job to wait for
    job = api.applications(emu.application_id).devices().patch(
        {"deviceIds": ids[:1000], "updateFields": {"description": "y"}, "email": "ops@example.com"})
    assert isinstance(job, JobEnqueuedResult) and job.job_id


def _emu_devices(emu: Emulator) -> list[dict[str, Any]]:
    from losant_fluent.testing._devices import app_devices

    return list(app_devices(emu.store, emu.application_id).values())


# -- a part failing mid-way (scripted loopback server) ------------------------------------------


def _script(second: Action) -> Any:
    def answer(request: Received, index: int) -> Action:
        if index == 1:
            return second
        return reply(200, {"updated": len(json.loads(request.body)["deviceIds"]),
                           "failed": 0, "skipped": 0})
    return answer


def test_a_part_refused_mid_way_names_the_ids_applied_and_not() -> None:
    ids = _ids(2500)
    refused = reply(400, {"type": "Validation", "message": "bad device"})
    with FaultServer(_script(refused)) as server:
        api = API(server.url, "tok", max_retries=0)
        with pytest.raises(BulkSplitError) as raised:
            api.applications(APP).devices().patch(
                {"deviceIds": ids, "updateFields": {"description": "x"}})
        assert len(server.received) == 2              # the third part never sent
        sent = _bodies(server.received)
    assert [len(b["deviceIds"]) for b in sent] == [1000, 1000]
    error = raised.value
    assert error.applied == ids[:1000]
    assert error.not_applied == ids[1000:]
    assert error.unknown == []
    text = str(error)
    assert "Applied to 1000" in text and "not applied to 1500" in text
    assert ids[0] in text and ids[1000] in text and "bad device" in text
    assert error.__cause__ is not None and "tok" not in text
    again = pickle.loads(pickle.dumps(error))
    assert again.applied == ids[:1000] and again.not_applied == ids[1000:]


def test_a_part_whose_answer_is_lost_is_unknown_and_never_resent() -> None:
    ids = _ids(2500)
    with FaultServer(_script(reply(503, {"message": "down"}))) as server:
        api = API(server.url, "tok", max_retries=0)
        with pytest.raises(BulkSplitError) as raised:
            api.applications(APP).devices().command().post({"deviceIds": ids, "name": "go"})
        assert len(server.received) == 2
    error = raised.value
    assert error.applied == ids[:1000]
    assert error.unknown == ids[1000:2000]
    assert error.not_applied == ids[2000:]
    assert "unknown for 1000" in str(error)


def test_a_first_part_refused_is_its_own_error() -> None:
    from losant_fluent import BadRequestError

    refused = reply(400, {"type": "Validation", "message": "bad device"})
    with FaultServer(lambda request, index: refused) as server:
        api = API(server.url, "tok", max_retries=0)
        with pytest.raises(BadRequestError):
            api.applications(APP).devices().patch(
                {"deviceIds": _ids(1500), "updateFields": {"description": "x"}})
        assert len(server.received) == 1


def test_a_part_queued_as_a_job_stops_the_rest_and_the_job_can_be_waited_for() -> None:
    ids = _ids(2500)
    queued = reply(202, {"jobQueued": True, "jobId": "j" * 21, "success": True})
    with FaultServer(_script(queued)) as server:
        api = API(server.url, "tok", max_retries=0)
        with pytest.raises(BulkSplitError) as raised:
            api.applications(APP).devices().patch(
                {"deviceIds": ids, "updateFields": {"description": "x"}})
        assert len(server.received) == 2
    error = raised.value
    assert error.applied == ids[:2000] and error.not_applied == ids[2000:]
    assert len(error.jobs) == 1 and isinstance(error.jobs[0], JobEnqueuedResult)
    assert error.jobs[0].job_id == "j" * 21 and callable(error.jobs[0].wait)
    assert "queued part 2 as job" in str(error)


def test_a_bulk_error_holding_a_job_pickles_without_the_token() -> None:
    token = "SECRET-bulk-token-4242"
    queued = reply(202, {"jobQueued": True, "jobId": "j" * 21, "success": True})
    with FaultServer(_script(queued)) as server:
        with pytest.raises(BulkSplitError) as raised:
            API(server.url, token, max_retries=0).applications(APP).devices().patch(
                {"deviceIds": _ids(1500), "updateFields": {"description": "x"}})
    pickled = pickle.dumps(raised.value)
    assert token.encode() not in pickled
    again = pickle.loads(pickled)
    assert again.jobs[0].job_id == "j" * 21 and again.applied == _ids(1500)
    assert raised.value.jobs[0].http_response() is not None    # the live error keeps it


def test_async_bulk_failure_mid_way_is_the_same_error() -> None:
    from losant_fluent import AsyncAPI

    ids = _ids(2100)
    refused = reply(400, {"type": "Validation", "message": "bad device"})
    with FaultServer(_script(refused)) as server:
        async def main() -> None:
            async with AsyncAPI(server.url, "tok", max_retries=0) as api:
                await api.applications(APP).devices().patch(
                    {"deviceIds": ids, "updateFields": {"description": "x"}})

        with pytest.raises(BulkSplitError) as raised:
            asyncio.run(main())
        assert len(server.received) == 2
    assert raised.value.applied == ids[:1000] and raised.value.not_applied == ids[1000:]


def test_parts_hold_at_most_the_published_cap_in_order_without_duplicates() -> None:
    ids = _ids(2001) + _ids(5)                       # five repeated
    def ok(request: Received, index: int) -> Action:
        return reply(200, {"success": True})
    with FaultServer(ok) as server:
        result = API(server.url, "tok").applications(APP).devices().command().post(
            {"deviceIds": ids, "name": "go"})
        sent = _bodies(server.received)
    assert result.success is True
    assert [len(b["deviceIds"]) for b in sent] == [limits.DEVICE_IDS_PER_CALL,
                                                   limits.DEVICE_IDS_PER_CALL, 1]
    assert [i for b in sent for i in b["deviceIds"]] == _ids(2001)
    assert all(b["name"] == "go" for b in sent)


def test_counts_are_summed_and_every_part_s_log_link_kept() -> None:
    def answer(request: Received, index: int) -> Action:
        sent = len(json.loads(request.body)["deviceIds"])
        return reply(200, {"updated": sent - 1, "failed": 1, "skipped": index,
                           "logLink": f"https://example.com/log-{index}"})
    with FaultServer(answer) as server:
        result = API(server.url, "tok").applications(APP).devices().patch(
            {"deviceIds": _ids(2500), "updateFields": {"description": "x"}})
        assert len(server.received) == 3
    assert isinstance(result, DevicesUpdated)
    assert (result.updated, result.failed, result.skipped) == (2497, 3, 3)
    assert result.log_link == "https://example.com/log-0"
    assert result.logLinks == [f"https://example.com/log-{n}" for n in range(3)]


def test_a_connection_dropped_after_sending_is_unknown_and_not_retried() -> None:
    # the default retry rules: a POST whose answer was lost is never sent again
    ids = _ids(2500)
    with FaultServer(_script(drop())) as server:
        api = API(server.url, "tok", timeout=10)
        with pytest.raises(BulkSplitError) as raised:
            api.applications(APP).devices().command().post({"deviceIds": ids, "name": "go"})
        assert len(server.received) == 2
    error = raised.value
    assert (error.applied, error.unknown, error.not_applied) == (
        ids[:1000], ids[1000:2000], ids[2000:])


def test_the_emulator_answers_a_bulk_update_asked_as_a_job_with_a_job_to_wait_for(
        emu: Emulator) -> None:
    ids = emu.seed_devices(3)
    api = API(emu.url, emu.user_token())
    job = api.applications(emu.application_id).devices().patch(
        {"deviceIds": ids, "updateFields": {"description": "z"}, "email": "ops@example.com"})
    assert isinstance(job, JobEnqueuedResult)
    log = job.wait(timeout=60)
    assert log.status == "completed"
    with emu.store.lock:
        assert {d["id"] for d in _emu_devices(emu) if d.get("description") == "z"} == set(ids)
