"""Methods of a result that names a background job: ``wait``/``await_``, ``download``.

The generator (``scripts/gen_models.py``, table ``EXTRA_BASES``) bases the models of the
``jobEnqueuedResult``-like schemas (Losant's 202 answers) on :class:`JobResultMixin`. The
work is done in ``losant_fluent._jobs``; the result finds the pipeline and the path of the
call that started the job (its application) itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ._base import LosantModel

if TYPE_CHECKING:
    from ._generated.application_job_log import ApplicationJobLog

__all__ = ["JobResultMixin"]


class JobResultMixin(LosantModel):
    """``wait()`` and ``download(dest)`` for an answer that names a job (``job_id``)."""

    # Pipeline.decode keeps the call's path on such results: the job log is per application.
    __losant_needs_path__: ClassVar[bool] = True

    def wait(self, timeout: float | None = None, progress: bool = False) -> ApplicationJobLog:
        """Poll the application's job log until the job finishes; return the job log.

        Polls back off from 0.25 s to 5 s. Raises ``JobFailedError`` when the job errored
        or failed and ``JobTimeoutError`` after ``timeout`` seconds (``None``: no limit);
        both carry the last ``job_log``. ``progress=True`` shows ``completed/total``.
        """
        from .._jobs import wait

        job_log: ApplicationJobLog = wait(self, timeout, progress)
        return job_log

    # ``await`` is a keyword: the awaited twin of ``wait`` takes PEP 8's trailing underscore.
    async def await_(self, timeout: float | None = None,
                     progress: bool = False) -> ApplicationJobLog:
        """``wait`` for a job started through an ``AsyncAPI``, awaited."""
        from .._jobs import await_

        job_log: ApplicationJobLog = await await_(self, timeout, progress)
        return job_log

    def download(self, dest: str | os.PathLike[str], *, timeout: float | None = None,
                 progress: bool = False) -> list[Path]:
        """Wait for the job, then save its output files (``output.downloadUrls``) in the
        directory ``dest``; return their paths. No Losant token goes to the file host."""
        from .._jobs import download

        return download(self, dest, timeout=timeout, progress=progress)

    async def adownload(self, dest: str | os.PathLike[str], *, timeout: float | None = None,
                        progress: bool = False) -> list[Path]:
        """``download`` for a job started through an ``AsyncAPI``, awaited."""
        from .._jobs import adownload

        return await adownload(self, dest, timeout=timeout, progress=progress)
