"""Waiting for a job Losant runs in the background, and saving the files it wrote.

Exports, clones, bulk changes and reports answer 202 with a ``jobId``; the job's progress
and its outcome appear later in the application's job log
(``GET /applications/{applicationId}/jobLogs/{jobId}``: ``status``,
``progress {completed, total}``, ``output.downloadUrls``). :class:`JobWait` holds the
decisions of one wait and does no I/O: it gives the call to send and, for each job log read,
says how long to sleep before the next poll, or that the job is done, or raises.
:func:`wait_flow` is the wait as a flow and :func:`turn_flow` a call that waits for its
turn; :func:`wait` runs the first for ``API`` results and :func:`await_` for ``AsyncAPI``
ones (``_flows.run``/``arun``). Output files come down through the same no-token path as
files (``losant_fluent.models`` ``File.download``): the storage host never sees the token.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote, unquote, urlsplit

from . import _catalog
from ._exceptions import JobError, JobFailedError, JobTimeoutError, NotFoundError
from ._flows import Flow, Sleep, arun, run
from ._pipeline import Pipeline, PipelineBase, path_of, pipeline_of, send_flow
from ._wire import WireCall

if TYPE_CHECKING:
    from ._async_pipeline import AsyncPipeline

log = logging.getLogger("losant_fluent")

__all__ = [
    "JobWait", "adownload", "await_", "download", "takes_turn", "turn_flow", "wait", "wait_flow",
]

#: Job log statuses of a job that is over.
COMPLETED = frozenset({"completed"})
FAILED = frozenset({"errored", "failed"})
#: Seconds before the first poll, growing by half each poll up to ``MAX_POLL``: short jobs
#: are seen done soon, long ones are not asked about every second.
FIRST_POLL = 0.25
MAX_POLL = 5.0
GROWTH = 1.5
#: Seconds a job may be missing from the job log after it was queued (the log entry is
#: written by the worker that picks the job up).
NOT_LOGGED_GRACE = 30.0
#: Seconds a job Losant runs one at a time waits for the one this client started before;
#: then it is sent anyway, and Losant's answer (429 or not) goes through the retry rules.
TURN_WAIT = 600.0


def _job(result: Any) -> tuple[str, str]:
    """The application id and the job id a 202 answer names; ``ValueError`` when it cannot."""
    job_id = getattr(result, "job_id", None)
    if not isinstance(job_id, str) or not job_id:
        raise ValueError(f"this {type(result).__name__} names no job (no jobId): Losant "
                         "did the work at once, there is nothing to wait for")
    path = path_of(result)
    if path is None:
        raise ValueError(f"this {type(result).__name__} was not read through an API (built "
                         "by hand, or unpickled): it cannot reach the job log")
    parts = path.strip("/").split("/")
    if len(parts) < 2 or parts[0] != "applications":
        raise ValueError(f"job {job_id} was started by {path}, outside an application: "
                         "only an application's jobs have a job log to wait on")
    return unquote(parts[1]), job_id


class JobWait:
    """The polls of one wait for a job (see the module docstring); no I/O.

    ``timeout`` is in seconds from now (``None``: as long as it takes); ``progress=True``
    shows a bar of the job log's ``completed/total`` (the ``data`` extra).
    """

    def __init__(self, result: Any, timeout: float | None = None, progress: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if timeout is not None and (isinstance(timeout, bool) or not timeout > 0):
            raise ValueError(f"timeout must be a positive number of seconds or None, "
                             f"not {timeout!r}")
        # ``(application id, job id)`` for a job known by its ids (see ``turn_flow``)
        self.application_id, self.job_id = result if isinstance(result, tuple) else _job(result)
        self._clock = clock
        self._started = clock()
        self._deadline = None if timeout is None else self._started + timeout
        self._timeout = timeout
        self._next_wait = FIRST_POLL
        self.polls = 0
        self.job_log: Any = None
        self._bar: Any = None
        if progress:
            from ._progress import progress_bar

            self._bar = progress_bar(None, "step", f"job {self.job_id}")

    def call(self) -> WireCall:
        """The request of the next poll."""
        self.polls += 1
        path = (f"/applications/{quote(self.application_id, safe='')}/jobLogs/"
                f"{quote(self.job_id, safe='')}")
        return WireCall("GET", path, endpoint=_catalog.endpoint("applicationJobLog.get"))

    def after(self, job_log: Any) -> float | None:
        """Seconds to sleep before the next poll, or ``None`` when the job completed.

        Raises :class:`JobFailedError` for a failed job and :class:`JobTimeoutError` when
        the next poll would come after the deadline.
        """
        self.job_log = job_log
        self._show(job_log)
        status = getattr(job_log, "status", None)
        if status in COMPLETED:
            self.close()
            return None
        if status in FAILED:
            self.close()
            error = getattr(job_log, "error", None)
            why = getattr(error, "message", None) or "no reason given"
            raise JobFailedError(f"job {self.job_id} {status}: {why}", job_log)
        return self._sleep()

    def missing(self, error: NotFoundError) -> float:
        """Seconds to sleep after the job log answered 404 (not written yet), or raise it."""
        if self._clock() - self._started > NOT_LOGGED_GRACE:
            self.close()
            raise error
        return self._sleep()

    def _sleep(self) -> float:
        wait = self._next_wait
        self._next_wait = min(self._next_wait * GROWTH, MAX_POLL)
        if self._deadline is not None:
            left = self._deadline - self._clock()
            if left <= 0:
                self.close()
                status = getattr(self.job_log, "status", None) or "not in the job log yet"
                raise JobTimeoutError(
                    f"job {self.job_id} had not finished after {self._timeout:g} s "
                    f"({self.polls} polls; last status: {status}{self._progress_text()})",
                    self.job_log)
            wait = min(wait, left)
        return wait

    def _progress_text(self) -> str:
        progress = getattr(self.job_log, "progress", None)
        completed = getattr(progress, "completed", None)
        total = getattr(progress, "total", None)
        if completed is None or total is None:
            return ""
        return f", {completed:g}/{total:g} done"

    def _show(self, job_log: Any) -> None:
        if self._bar is None:
            return
        progress = getattr(job_log, "progress", None)
        completed = getattr(progress, "completed", None)
        total = getattr(progress, "total", None)
        if total is not None and self._bar.total != int(total):
            self._bar.total = int(total)
        if completed is not None:
            self._bar.update(int(completed) - self._bar.n)
        else:
            self._bar.refresh()

    def close(self) -> None:
        """Close the progress bar (a finished or abandoned wait)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _sync_pipeline(result: Any) -> Pipeline:
    _job(result)  # what is wrong with the result itself is said first
    pipeline = pipeline_of(result)
    if pipeline is None:
        raise ValueError(f"this {type(result).__name__} was not read through an API "
                         "(built by hand, or unpickled): it cannot reach the job log")
    if not isinstance(pipeline, Pipeline):
        raise TypeError("this job was started through an AsyncAPI: use "
                        "await result.await_() (and await result.adownload(dest))")
    return pipeline


def _async_pipeline(result: Any) -> AsyncPipeline:
    _job(result)
    pipeline = pipeline_of(result)
    if pipeline is None:
        raise ValueError(f"this {type(result).__name__} was not read through an API "
                         "(built by hand, or unpickled): it cannot reach the job log")
    if isinstance(pipeline, Pipeline) or not hasattr(pipeline, "aperform"):
        raise TypeError("this job was started through a synchronous API: use "
                        "result.wait() (and result.download(dest))")
    return cast("AsyncPipeline", pipeline)


def _poll_flow(pipeline: PipelineBase, job: JobWait,
               missing: Callable[[JobWait, NotFoundError], float | None]) -> Flow[Any]:
    """Read the job log and sleep what :class:`JobWait` says until it says done (the
    result is the last job log); ``missing`` says what a job log not written yet means."""
    while True:
        call = job.call()
        try:
            response = yield from send_flow(pipeline, call)
            sleep = job.after(pipeline.decode(call, response))
        except NotFoundError as error:
            sleep = missing(job, error)
        if sleep is None:
            return job.job_log
        yield Sleep(sleep)


def wait_flow(pipeline: PipelineBase, job: JobWait) -> Flow[Any]:
    """The polls of one wait as a flow (see ``_flows``): done (the result is the last job
    log), failed, timed out, or never logged within the grace period all end it."""
    try:
        job_log = yield from _poll_flow(pipeline, job, JobWait.missing)
        _over(pipeline, job.job_id)
        return job_log
    finally:
        job.close()


def wait(result: Any, timeout: float | None = None, progress: bool = False) -> Any:
    """Poll the job ``result`` names until it finishes; return its job log (see JobWait)."""
    pipeline = _sync_pipeline(result)
    return run(wait_flow(pipeline, JobWait(result, timeout, progress)), pipeline.perform)


async def await_(result: Any, timeout: float | None = None, progress: bool = False) -> Any:
    """:func:`wait` for a result read through an ``AsyncAPI``, awaited."""
    pipeline = _async_pipeline(result)
    return await arun(wait_flow(pipeline, JobWait(result, timeout, progress)),
                      pipeline.aperform)


class _Output:
    """One output file of a job, as ``_files.download`` takes it: a ``url`` and a ``name``."""

    def __init__(self, url: str, index: int) -> None:
        self.url = url
        # The storage key's last segment; never a path the URL could steer outside dest.
        name = os.path.basename(unquote(urlsplit(url).path))
        self.name = name if name not in ("", ".", "..") else f"job-output-{index}"


def _outputs(job_log: Any, job_id: str) -> list[_Output]:
    output = getattr(job_log, "output", None)
    urls = output.get("downloadUrls") if isinstance(output, dict) else None
    if not urls:
        raise JobError(f"job {job_id} completed without output files "
                       "(its job log has no output.downloadUrls)", job_log)
    return [_Output(str(url), index) for index, url in enumerate(urls)]


def _folder(dest: str | os.PathLike[str]) -> Path:
    if not isinstance(dest, (str, os.PathLike)):
        raise TypeError(f"dest must be a directory path, not {type(dest).__name__}")
    folder = Path(dest)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"dest must be a directory (a job may write several files); "
                         f"{folder} is a file")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def download(result: Any, dest: str | os.PathLike[str], *, timeout: float | None = None,
             progress: bool = False) -> list[Path]:
    """Wait for the job (``timeout`` as in :func:`wait`), then save each output file in
    the directory ``dest`` (made if missing) under its own name; return the paths."""
    folder = _folder(dest)
    pipeline = _sync_pipeline(result)
    job_log = wait(result, timeout, progress)
    from ._files import download as fetch

    saved = []
    for output in _outputs(job_log, result.job_id):
        fetch(output, folder, api=pipeline, progress=progress)
        saved.append(folder / output.name)
    return saved


async def adownload(result: Any, dest: str | os.PathLike[str], *,
                    timeout: float | None = None, progress: bool = False) -> list[Path]:
    """:func:`download` for a result read through an ``AsyncAPI``, awaited."""
    folder = _folder(dest)
    pipeline = _async_pipeline(result)
    job_log = await await_(result, timeout, progress)
    from ._files import adownload as afetch

    saved = []
    for output in _outputs(job_log, result.job_id):
        await afetch(output, folder, api=pipeline, progress=progress)
        saved.append(folder / output.name)
    return saved


# -- jobs Losant runs one at a time -------------------------------------------------------------


def _over(pipeline: Any, job_id: str) -> None:
    """Job ``job_id`` finished: calls waiting for their turn behind it may go."""
    limiter = pipeline.options.limiter
    if limiter is not None:
        limiter.job_over(job_id)


def _behind(pipeline: Any, call: WireCall) -> tuple[str, str] | None:
    """The job this client started that ``call`` must wait for, logged; or ``None``."""
    endpoint = call.endpoint
    assert endpoint is not None
    before: tuple[str, str] | None = pipeline.options.limiter.job_before(
        endpoint.id, endpoint.path, call.path)
    if before is not None:
        log.info("%s %s: waiting for job %s to finish first (Losant runs these jobs one at "
                 "a time)", call.method, call.path, before[1])
    return before


def _started(pipeline: Any, call: WireCall, result: Any) -> None:
    """Remember the job ``call`` started, so the next call of its kind waits for it."""
    job_id = getattr(result, "job_id", None)
    parts = call.path.strip("/").split("/")
    endpoint = call.endpoint
    if isinstance(job_id, str) and job_id and endpoint is not None and len(parts) > 1 and (
        parts[0] == "applications"
    ):
        pipeline.options.limiter.job_started(endpoint.id, endpoint.path, call.path,
                                             unquote(parts[1]), job_id)


def takes_turn(pipeline: PipelineBase, call: WireCall) -> bool:
    """Whether ``call`` starts a job Losant runs one at a time (see :func:`turn_flow`)."""
    limiter = pipeline.options.limiter
    endpoint = call.endpoint
    return limiter is not None and endpoint is not None and endpoint.id in limiter.turn_endpoints


def turn_flow(pipeline: PipelineBase, call: WireCall) -> Flow[Any]:
    """Send ``call``, which starts a job Losant runs one at a time, once the job of its kind
    this client started before has finished (a failed or vanished one too), as a flow; the
    result is the call's, whose job the next such call waits for in turn. Both clients run
    it (``_results.deliver``/``adeliver``)."""
    before = _behind(pipeline, call)
    if before is not None:
        try:  # a failed job, or one gone from the log, frees the turn too
            yield from _poll_flow(pipeline, JobWait(before, TURN_WAIT), _missing_or_none)
        except JobFailedError:
            pass
        except JobTimeoutError:
            _gave_up(call, before)
        _over(pipeline, before[1])
    answer = yield from send_flow(pipeline, call)
    result = pipeline.decode(call, answer)
    _started(pipeline, call, result)
    return result


def _gave_up(call: WireCall, before: tuple[str, str]) -> None:
    """The job before has run for ``TURN_WAIT``: send anyway, Losant decides (429 or not)."""
    log.warning("%s %s: job %s still runs after %g s; sending anyway", call.method, call.path,
                before[1], TURN_WAIT)


def _missing_or_none(flow: JobWait, error: NotFoundError) -> float | None:
    """A job log still missing after the grace period: the job is gone, stop waiting."""
    try:
        return flow.missing(error)
    except NotFoundError:
        return None
