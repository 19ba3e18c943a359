"""Export and bulk jobs in the emulator: 202 with Losant's job id, a job log that goes
queued -> inProgress -> completed with progress, and output files on the storage host
(CSV that reads back, JSON, zip), served without a token from signed URLs."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests

from losant_fluent import API
from losant_fluent.testing import Emulator

SCHEMAS = Path(__file__).resolve().parents[1] / "reference" / "schemas"
JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,21}$")  # jobEnqueuedResult.jobId: maxLength 21
HEX_ID = re.compile(r"^[A-Fa-f\d]{24}$")


def _validate(name: str, instance: Any) -> None:
    definitions = {p.stem: json.loads(p.read_text(encoding="utf-8"))
                   for p in SCHEMAS.glob("*.json")}
    for schema in definitions.values():
        schema.pop("$schema", None)
    schema = {**definitions[name], "definitions": definitions}
    jsonschema.Draft7Validator(schema).validate(instance)


class Raw:
    """Plain HTTP with a user token."""

    def __init__(self, emu: Emulator) -> None:
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {emu.user_token()}"
        self.app = f"{emu.url}/applications/{emu.application_id}"

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.session.post(self.app + path, json=body, timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.app + path, timeout=10, **kwargs)

    def job(self, path: str, body: Any = None, **kwargs: Any) -> str:
        answer = self.post(path, body, **kwargs)
        assert answer.status_code == 202, answer.text
        assert set(answer.json()) == {"jobQueued", "jobId", "success"}
        _validate("jobEnqueuedResult", answer.json())
        job_id = answer.json()["jobId"]
        assert JOB_ID.match(job_id)
        return str(job_id)

    def log(self, job_id: str) -> dict[str, Any]:
        answer = self.get(f"/jobLogs/{job_id}")
        assert answer.status_code == 200, answer.text
        _validate("applicationJobLog", answer.json())
        return dict(answer.json())

    def finished(self, job_id: str, timeout: float = 30.0) -> dict[str, Any]:
        """Poll the job log until the job ends (a generous deadline)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.log(job_id)
            if log["status"] in ("completed", "failed", "errored"):
                return log
            time.sleep(0.02)
        raise AssertionError(f"job {job_id} did not finish within {timeout} s")


def _download(url: str) -> requests.Response:
    answer = requests.get(url, timeout=10)  # no Authorization: the URL is signed
    assert answer.status_code == 200, answer.text
    return answer


@pytest.fixture(scope="module")
def shared() -> Iterator[Emulator]:
    with Emulator(job_seconds=0.3) as emu:
        yield emu


@pytest.fixture
def emu(shared: Emulator) -> Emulator:
    shared.reset()
    return shared


def _states(emu: Emulator, values: list[float]) -> int:
    base = int(time.time() * 1000) - 60_000
    states = [{"time": base + n * 1000, "data": {"temperature": v}}
              for n, v in enumerate(values)]
    answer = Raw(emu).post(f"/devices/{emu.device_id}/state", states)
    assert answer.status_code == 200
    return base


# -- data exports ----------------------------------------------------------------------


def test_data_export_log_finishes_and_its_csv_reads_back(emu: Emulator) -> None:
    base = _states(emu, [20.5, 21.0, 22.25])
    raw = Raw(emu)
    job_id = raw.job("/data/export", {"deviceIds": [emu.device_id], "attributes": ["temperature"]})
    log = raw.finished(job_id)
    assert log["status"] == "completed"
    assert log["name"] == "DataExport" and log["ownerType"] == "application"
    assert log["progress"] == {"completed": 3, "total": 3}
    assert HEX_ID.match(log["id"]) and log["jobId"] == log["id"]
    assert log["runQueuedAt"] <= log["runStartedAt"] <= log["runCompletedAt"]
    assert log["requestedByType"] == "user" and log["requestedById"] == emu.user_id
    (url,) = log["output"]["downloadUrls"]
    answer = _download(url)
    assert answer.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["temperature"] for r in rows] == ["20.5", "21", "22.25"]
    assert [int(r["Timestamp"]) for r in rows] == [base, base + 1000, base + 2000]
    assert {r["Device ID"] for r in rows} == {emu.device_id}
    assert rows[0]["Date"].endswith("Z") and rows[0]["Device Name"]
    # The log is found by its own id too, and listed.
    assert raw.log(log["id"])["status"] == "completed"
    listing = raw.get("/jobLogs").json()
    _validate("applicationJobLogs", listing)
    assert log["id"] in [item["id"] for item in listing["items"]]


def test_data_export_through_the_client(emu: Emulator) -> None:
    _states(emu, [1.0, 2.0])
    api = API(url=emu.url).login_user(emu.user_email, emu.user_password)
    app = api.applications(emu.application_id)
    queued = app.data().export().post({"deviceIds": [emu.device_id]})
    assert queued.job_queued is True and JOB_ID.match(queued.job_id)
    raw = Raw(emu)
    raw.finished(queued.job_id)
    log = app.job_logs(queued.job_id).get()  # the model checks the 24-hex ids
    assert log.status == "completed" and log.progress is not None
    assert (log.progress.completed, log.progress.total) == (2, 2)
    logs = app.job_logs().get(query={"name": "DataExport", "status": "completed"})
    assert [item.id for item in logs.items] == [log.id]


def test_progress_goes_forward_until_completed() -> None:
    with Emulator(job_seconds=3.0) as emu:
        _states(emu, [float(n) for n in range(40)])
        raw = Raw(emu)
        job_id = raw.job("/data/export", {})
        seen: list[tuple[str, int]] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            log = raw.log(job_id)
            seen.append((log["status"], log["progress"]["completed"]))
            assert log["progress"]["total"] == 40
            if log["status"] == "completed":
                break
            time.sleep(0.01)
        order = {"queued": 0, "inProgress": 1, "completed": 2}
        ranks = [order[status] for status, _ in seen]
        assert ranks == sorted(ranks) and ranks[-1] == 2  # (queued: see the next test)
        done = [completed for _, completed in seen]
        assert done == sorted(done) and done[-1] == 40
        assert any(status == "inProgress" and 0 < n < 40 for status, n in seen)


def test_output_appears_only_when_completed() -> None:
    with Emulator(job_seconds=3600) as emu:
        raw = Raw(emu)
        job_id = raw.job("/data/export", {})
        log = raw.log(job_id)
        assert log["status"] == "queued" and "output" not in log
        emu.finish_jobs()
        assert raw.log(job_id)["status"] == "completed"


def test_export_options_shape_the_csv(emu: Emulator) -> None:
    _states(emu, [5.0])
    raw = Raw(emu)
    job_id = raw.job(f"/devices/{emu.device_id}/export",
                     {"options": {"includeDate": False, "includeID": False}})
    log = raw.finished(job_id)
    assert log["name"] == "DeviceDataExport"
    assert (log["resourceType"], log["resourceId"]) == ("device", emu.device_id)
    text = _download(log["output"]["downloadUrls"][0]).text
    assert text.splitlines()[0] == "Device Name,Timestamp,temperature"


def test_data_export_window_and_file_per_device(emu: Emulator) -> None:
    base = _states(emu, [1.0, 2.0, 3.0])
    other = emu.seed_devices(1)[0]
    raw = Raw(emu)
    job_id = raw.job("/data/export", {"start": base + 1000, "end": base + 1000,
                                      "options": {"filePerDevice": True}})
    log = raw.finished(job_id)
    urls = log["output"]["downloadUrls"]
    names = [url.split("?")[0].rsplit("/", 1)[-1] for url in urls]
    assert sorted(names) == sorted([f"{emu.device_id}.csv", f"{other}.csv"])
    mine = _download(urls[names.index(f"{emu.device_id}.csv")]).text
    assert [r["temperature"] for r in csv.DictReader(io.StringIO(mine))] == ["2"]


# -- the other exports -------------------------------------------------------------------


def test_devices_export_csv_and_json(emu: Emulator) -> None:
    emu.seed_devices(2)
    raw = Raw(emu)
    log = raw.finished(raw.job("/devices/export", {}))
    rows = list(csv.DictReader(io.StringIO(_download(log["output"]["downloadUrls"][0]).text)))
    assert len(rows) == 3 == log["progress"]["total"]
    assert emu.device_id in {r["id"] for r in rows}
    log = raw.finished(raw.job("/devices/export", {"format": "json",
                                                   "query": {"name": {"$ne": "nothing"}}}))
    answer = _download(log["output"]["downloadUrls"][0])
    assert answer.headers["Content-Type"].startswith("application/json")
    assert len(answer.json()) == 3


def test_events_export(emu: Emulator) -> None:
    raw = Raw(emu)
    for level in ("info", "error"):
        assert raw.post("/events", {"subject": level, "level": level}).status_code == 201
    log = raw.finished(raw.job("/events/export", {"query": {"level": "error"}}))
    assert log["name"] == "EventsExport"
    rows = list(csv.DictReader(io.StringIO(_download(log["output"]["downloadUrls"][0]).text)))
    assert [r["subject"] for r in rows] == ["error"]


def test_data_table_rows_export(emu: Emulator) -> None:
    raw = Raw(emu)
    table = raw.post("/data-tables", {"name": "readings", "columns": [
        {"name": "value", "dataType": "number", "constraint": "optional"}]}).json()
    assert raw.post(f"/data-tables/{table['id']}/rows",
                    [{"value": n} for n in range(5)]).status_code == 201
    log = raw.finished(raw.job(f"/data-tables/{table['id']}/rows/export",
                               {"query": {"value": {"$gte": 2}}}))
    assert (log["resourceType"], log["resourceId"]) == ("datatable", table["id"])
    rows = list(csv.DictReader(io.StringIO(_download(log["output"]["downloadUrls"][0]).text)))
    assert [r["value"] for r in rows] == ["2", "3", "4"]


def test_application_export_is_a_zip(emu: Emulator) -> None:
    raw = Raw(emu)
    log = raw.finished(raw.job("/export", {"includeDevices": True}))
    answer = _download(log["output"]["downloadUrls"][0])
    assert answer.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        assert json.loads(archive.read("application.json"))["id"] == emu.application_id
        assert emu.device_id in {d["id"] for d in json.loads(archive.read("devices.json"))}


def test_application_clone_makes_an_application(emu: Emulator) -> None:
    raw = Raw(emu)
    log = raw.finished(raw.job("/clone", {"includeDevices": True}))
    new_id = log["output"]["applicationId"]
    assert new_id != emu.application_id
    clone = raw.session.get(f"{emu.url}/applications/{new_id}", timeout=10)
    assert clone.status_code == 200
    devices = raw.session.get(f"{emu.url}/applications/{new_id}/devices", timeout=10).json()
    assert devices["count"] == 1


def test_other_202_answers_get_a_job_log(emu: Emulator) -> None:
    raw = Raw(emu)
    answer = raw.session.get(f"{raw.app}/archiveData", params={"date": "1700000000000"},
                             timeout=10)
    assert answer.status_code == 202
    log = raw.finished(answer.json()["jobId"])
    assert log["name"] == "ArchiveData" and log["status"] == "completed"
    assert "output" not in log


# -- failures and the storage host ---------------------------------------------------------


def test_a_failed_job_says_so_and_has_no_output(emu: Emulator) -> None:
    emu.fail_next_job("disk full")
    raw = Raw(emu)
    log = raw.finished(raw.job("/data/export", {}))
    assert log["status"] == "failed"
    assert log["error"]["message"] == "disk full"
    assert "output" not in log
    # The next one succeeds again.
    assert raw.finished(raw.job("/devices/export", {}))["status"] == "completed"


def test_output_urls_are_signed(emu: Emulator) -> None:
    _states(emu, [1.0])
    raw = Raw(emu)
    url = raw.finished(raw.job("/data/export", {}))["output"]["downloadUrls"][0]
    tampered = re.sub(r"signature=[0-9a-f]+", "signature=" + "0" * 64, url)
    assert requests.get(tampered, timeout=10).status_code == 403
    assert requests.get(url.split("?")[0], timeout=10).status_code == 403
    other_name = url.replace("data-export.csv", "other.csv")
    assert requests.get(other_name, timeout=10).status_code == 404
    emu.reset()  # outputs go with the job
    assert requests.get(url, timeout=10).status_code == 404


def test_bad_export_bodies_are_refused_before_a_job(emu: Emulator) -> None:
    raw = Raw(emu)
    before = raw.get("/jobLogs").json()["count"]  # the seeded account has a job log
    for path, body in [("/data/export", {"start": "soon"}),
                       ("/data/export", {"attributes": "temperature"}),
                       ("/data/export", {"start": 2000, "end": 1000}),
                       ("/devices/export", {"format": "xml"}),
                       ("/events/export", {"query": {"level": {"$like": "x"}}}),
                       ("/export", {"exportType": "repo"})]:
        answer = raw.post(path, body)
        assert answer.status_code == 400, (path, body, answer.text)
        assert answer.json()["type"] == "Validation"
    assert raw.get("/jobLogs").json()["count"] == before


def test_bad_row_export_options_are_refused(emu: Emulator) -> None:
    raw = Raw(emu)
    table = raw.post("/data-tables", {"name": "t", "columns": [
        {"name": "value", "dataType": "number", "constraint": "optional"}]}).json()
    path = f"/data-tables/{table['id']}/rows/export"
    for options in ({"limit": "ten"}, {"offset": -1}, {"sortDirection": "up"},
                    {"sortColumn": 5}, {"limit": True}):
        answer = raw.post(path, {"queryOptions": options})
        assert answer.status_code == 400, (options, answer.text)
        assert answer.json()["type"] == "Validation"
    assert not emu.app.internal_errors
    log = raw.finished(raw.job(path, {"queryOptions": {"limit": 2, "offset": 1}}))
    assert log["progress"]["total"] == 0  # an empty table: nothing to skip or take


def test_bulk_calls_asking_for_a_job_answer_202(emu: Emulator) -> None:
    raw = Raw(emu)
    emu.seed_devices(2)
    patched = raw.session.patch(f"{raw.app}/devices", json={
        "query": {}, "updateFields": {"description": "patched"}, "email": "ops@example.com"},
        timeout=10)
    assert patched.status_code == 202
    log = raw.finished(patched.json()["jobId"])
    assert log["name"] == "DevicesPatch" and log["progress"] == {"completed": 3, "total": 3}
    assert log["input"]["emails"] == ["ops@example.com"]
    # The work is done all the same.
    devices = raw.get("/devices").json()["items"]
    assert {d.get("description") for d in devices} == {"patched"}
    deleted = raw.post("/devices/delete", {"query": {"name": {"$startsWith": "Device"}},
                                           "forceJob": True})
    assert deleted.status_code == 202
    assert raw.finished(deleted.json()["jobId"])["output"] == {"removed": 2, "failed": 0}
    # Without email, callbackUrl or forceJob, the answer comes at once.
    direct = raw.session.patch(f"{raw.app}/devices", json={
        "query": {}, "updateFields": {"description": "again"}}, timeout=10)
    assert direct.status_code == 200 and direct.json()["updated"] == 1


# -- the client's job waits against the emulator's jobs -----------------------------------


def test_the_client_waits_for_an_export_and_reads_its_csv(emu: Emulator, tmp_path: Path,
                                                          ) -> None:
    _states(emu, [20.5, 21.5])
    api = API(url=emu.url, token=emu.user_token())
    job = api.applications(emu.application_id).data().export().post(
        {"deviceIds": [emu.device_id], "start": -3_600_000, "end": 0})
    log = job.wait(timeout=30)
    assert log.status == "completed" and log.progress is not None
    assert (log.progress.completed, log.progress.total) == (2, 2)
    (path,) = job.download(tmp_path, timeout=30)
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [r["temperature"] for r in rows] == ["20.5", "21.5"]


def test_the_async_client_awaits_an_export(emu: Emulator, tmp_path: Path) -> None:
    import asyncio

    from losant_fluent import AsyncAPI

    _states(emu, [1.0, 2.0, 3.0])

    async def go() -> tuple[Any, list[Path]]:
        async with AsyncAPI(url=emu.url, token=emu.user_token()) as api:
            job = await api.applications(emu.application_id).devices(
                emu.device_id).export().post({})
            return await job.await_(timeout=30), await job.adownload(tmp_path, timeout=30)

    log, paths = asyncio.run(go())
    assert log.status == "completed"
    rows = list(csv.DictReader(paths[0].open(encoding="utf-8")))
    assert [r["temperature"] for r in rows] == ["1", "2", "3"]


def test_the_client_raises_on_a_failed_job(emu: Emulator) -> None:
    from losant_fluent import JobFailedError

    emu.fail_next_job("out of disk")
    api = API(url=emu.url, token=emu.user_token())
    job = api.applications(emu.application_id).events().export().post({})
    with pytest.raises(JobFailedError) as caught:
        job.wait(timeout=30)
    assert caught.value.job_log is not None and caught.value.job_log.status == "failed"
    assert caught.value.job_log.error is not None
    assert caught.value.job_log.error.message == "out of disk"
