"""Jobs you can wait for: 202 answers with a jobId, polled in the job log, output downloaded.

A loopback server plays Losant: ``data/export`` answers 202 with a ``jobId``, the job log
(``/applications/{id}/jobLogs/{jobId}``) moves through its statuses poll by poll, and the
output file sits on a "storage host" path of the same server, checked for no token.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from fault_server import Action, FaultServer, Received, raw, reply

from losant_fluent import API, JobError, JobFailedError, JobTimeoutError, LosantError

APP = "a" * 24
DEV = "d" * 24
JOB = "0123456789abcdef01234"          # Losant's job ids are up to 21 characters
CSV = b"id,time,temp\nd,2026-01-01T00:00:00.000Z,21.5\n"


class JobServer:
    """Answers an export with a job, then reports it queued, in progress and ``final``."""

    def __init__(self, final: str = "completed", steps: int = 3, missing_first: bool = True,
                 urls: list[str] | None = None) -> None:
        self.final, self.steps, self.missing_first = final, steps, missing_first
        self.urls = urls
        self.polls = 0
        self.poll_times: list[float] = []
        self.base = ""

    def log(self) -> dict[str, Any]:
        done = min(self.polls - 1, self.steps)
        document: dict[str, Any] = {
            "id": "f" * 24, "applicationId": APP, "jobId": "e" * 24, "name": "dataExport",
            "status": "queued" if done <= 0 else "inProgress",
            "progress": {"completed": max(done, 0), "total": self.steps},
        }
        if done >= self.steps:
            document["status"] = self.final
            if self.final == "completed":
                urls = self.urls if self.urls is not None else [
                    f"{self.base}/storage/exports/{JOB}/data-export.csv?sig=x"]
                document["output"] = {"downloadUrls": urls}
            else:
                document["error"] = {"name": "ExportError", "message": "disk full"}
        return document

    def __call__(self, request: Received, index: int) -> Action:
        if request.method == "POST" and request.path.endswith("/export"):
            return reply(202, {"jobQueued": True, "jobId": JOB, "success": True})
        if request.path == f"/applications/{APP}/jobLogs/{JOB}":
            self.poll_times.append(time.monotonic())
            if self.missing_first and not self.polls:
                self.missing_first = False
                return reply(404, {"type": "NotFound", "message": "Job log not found"})
            self.polls += 1
            return reply(200, self.log())
        if request.path.startswith("/storage/"):
            return raw(200, CSV, "text/csv")
        return reply(404, {"type": "NotFound", "message": request.path})


def _export(api: API) -> Any:
    return api.applications(APP).data().export().post({"deviceIds": [DEV], "start": 0, "end": 1})


def test_an_export_is_waited_for_and_its_csv_downloaded(tmp_path: Path) -> None:
    script = JobServer()
    with FaultServer(script) as server:
        script.base = server.url
        api = API(server.url, "secret-token")
        job = _export(api)
        assert job.job_id == JOB
        job_log = job.wait(timeout=30)
        assert job_log.status == "completed" and job_log.progress.completed == 3
        paths = job.download(tmp_path / "out", timeout=30)
        received = list(server.received)
    assert [p.name for p in paths] == ["data-export.csv"]
    assert paths[0].read_bytes() == CSV
    import pandas as pd
    frame = pd.read_csv(paths[0])
    assert list(frame.columns) == ["id", "time", "temp"] and frame["temp"][0] == 21.5
    polls = [r for r in received if "/jobLogs/" in r.path]
    assert all(r.headers["authorization"] == "Bearer secret-token" for r in polls)
    storage = [r for r in received if r.path.startswith("/storage/")]
    assert len(storage) == 1 and "authorization" not in storage[0].headers
    assert storage[0].query == {"sig": "x"}


def test_polls_back_off_and_a_first_404_means_not_logged_yet() -> None:
    script = JobServer(steps=4)
    with FaultServer(script) as server:
        script.base = server.url
        _export(API(server.url, "tok")).wait()
    gaps = [b - a for a, b in zip(script.poll_times, script.poll_times[1:], strict=False)]
    assert len(script.poll_times) == 6            # the 404, queued, 3 in progress, completed
    assert gaps[0] >= 0.25 and gaps[-1] > gaps[0] * 2     # 0.25 s growing by half each poll


def test_a_failed_job_raises_with_its_job_log() -> None:
    script = JobServer(final="errored", steps=1, missing_first=False)
    with FaultServer(script) as server:
        with pytest.raises(JobFailedError) as raised:
            _export(API(server.url, "tok")).wait(timeout=30)
    error = raised.value
    assert isinstance(error, LosantError) and isinstance(error, JobError)
    assert error.job_log.status == "errored"
    assert str(error) == f"job {JOB} errored: disk full"
    import pickle
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is JobFailedError and str(again) == str(error)
    assert again.job_log.status == "errored" and again.job_log.error.message == "disk full"


def test_a_job_that_does_not_finish_in_time_raises_a_timeout_with_its_job_log() -> None:
    script = JobServer(steps=10_000, missing_first=False)
    with FaultServer(script) as server:
        job = _export(API(server.url, "tok"))
        started = time.monotonic()
        with pytest.raises(JobTimeoutError) as raised:
            job.wait(timeout=0.6)
        elapsed = time.monotonic() - started
    assert 0.6 <= elapsed < 5
    assert raised.value.job_log.status == "inProgress"
    assert isinstance(raised.value, TimeoutError)
    assert "had not finished after 0.6 s" in str(raised.value)
    assert "last status: inProgress" in str(raised.value)


def test_progress_shows_completed_over_total(capsys: pytest.CaptureFixture[str]) -> None:
    script = JobServer(steps=3, missing_first=False)
    with FaultServer(script) as server:
        script.base = server.url
        _export(API(server.url, "tok")).wait(progress=True)
    err = capsys.readouterr().err
    assert f"job {JOB}" in err and "3/3" in err


def test_a_job_without_output_files_says_so(tmp_path: Path) -> None:
    script = JobServer(steps=1, missing_first=False, urls=[])
    with FaultServer(script) as server:
        with pytest.raises(JobError, match="without output files"):
            _export(API(server.url, "tok")).download(tmp_path)


def test_waiting_needs_a_job_an_application_and_a_sane_timeout() -> None:
    from losant_fluent.models import JobEnqueuedResult

    with FaultServer(lambda request, index: reply(202, {"jobQueued": True, "jobId": JOB})
                     ) as server:
        api = API(server.url, "tok")
        report = api.dashboards("b" * 24).post({}, validate=False)   # sendReport
        with pytest.raises(ValueError, match="outside an application"):
            report.wait()
        with pytest.raises(ValueError, match="timeout must be a positive number"):
            _export(api).wait(timeout=0)
    with pytest.raises(ValueError, match="names no job"):
        JobEnqueuedResult(success=True).wait()
    with pytest.raises(ValueError, match="not read through an API"):
        JobEnqueuedResult(jobId=JOB).wait()


def test_async_export_is_awaited_and_downloaded(tmp_path: Path) -> None:
    from losant_fluent import AsyncAPI

    script = JobServer()

    async def main(url: str) -> tuple[Any, list[Path]]:
        async with AsyncAPI(url, "tok") as api:
            job = await api.applications(APP).data().export().post(
                {"deviceIds": [DEV], "start": 0, "end": 1})
            with pytest.raises(TypeError, match="await result.await_"):
                job.wait()
            return await job.await_(timeout=30), await job.adownload(tmp_path, timeout=30)

    with FaultServer(script) as server:
        script.base = server.url
        job_log, paths = asyncio.run(main(server.url))
    assert job_log.status == "completed"
    assert paths == [tmp_path / "data-export.csv"] and paths[0].read_bytes() == CSV


def test_a_sync_job_refuses_the_awaited_twin() -> None:
    script = JobServer(missing_first=False)
    with FaultServer(script) as server:
        job = _export(API(server.url, "tok"))
        with pytest.raises(TypeError, match=r"use result.wait\(\)"):
            asyncio.run(job.await_())


# -- jobs Losant runs one at a time ------------------------------------------------------


def test_a_second_export_waits_for_the_first_instead_of_a_429(
        caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from losant_fluent import RateLimitError
    from losant_fluent.testing import Emulator

    with Emulator(job_seconds=0.5) as emu:
        body = {"deviceIds": [emu.device_id]}
        # Without the client's turn-taking, Losant (here the emulator) refuses the second.
        bare = API(emu.url, emu.user_token(), max_retries=0, throttle=False)
        bare.applications(emu.application_id).data().export().post(body)
        with pytest.raises(RateLimitError):
            bare.applications(emu.application_id).data().export().post(body)
        emu.finish_jobs()

        app = API(emu.url, emu.user_token(), max_retries=0).applications(emu.application_id)
        first = app.data().export().post(body)
        with caplog.at_level(logging.INFO, logger="losant_fluent"):
            second = app.data().export().post(body)           # waits for the first job
        assert app.job_logs(first.job_id).get().status == "completed"
        assert second.job_id != first.job_id
        assert any(f"waiting for job {first.job_id} to finish first" in r.getMessage()
                   for r in caplog.records)
        # once a job was waited for, the next one goes at once
        second.wait(timeout=30)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="losant_fluent"):
            app.devices().export().post({})                   # same rule, same application
        assert not any("to finish first" in r.getMessage() for r in caplog.records)


def test_async_exports_take_turns() -> None:
    from losant_fluent import AsyncAPI
    from losant_fluent.testing import Emulator

    async def main(emu: Emulator) -> tuple[Any, Any]:
        async with AsyncAPI(emu.url, emu.user_token(), max_retries=0) as api:
            app = api.applications(emu.application_id)
            first = await app.data().export().post({"deviceIds": [emu.device_id]})
            second = await app.data().export().post({"deviceIds": [emu.device_id]})
            return (await app.job_logs(first.job_id).get()), second

    with Emulator(job_seconds=0.5) as emu:
        first_log, second = asyncio.run(main(emu))
    assert first_log.status == "completed" and second.job_id


def test_a_turn_is_waited_for_only_so_long(monkeypatch: pytest.MonkeyPatch,
                                           caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from losant_fluent import RateLimitError, _jobs
    from losant_fluent.testing import Emulator

    monkeypatch.setattr(_jobs, "TURN_WAIT", 0.5)
    with Emulator(job_seconds=3600) as emu:               # the first job never ends
        app = API(emu.url, emu.user_token(), max_retries=0).applications(emu.application_id)
        first = app.data().export().post({"deviceIds": [emu.device_id]})
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="losant_fluent"), \
                pytest.raises(RateLimitError):            # sent anyway: Losant refuses it
            app.data().export().post({"deviceIds": [emu.device_id]})
        assert 0.5 <= time.monotonic() - started < 10
    assert any(f"job {first.job_id} still runs after 0.5 s" in r.getMessage()
               for r in caplog.records)
