"""Methods of file results: ``download`` (``File``) and ``upload_file`` (signed uploads).

The generator (``scripts/gen_models.py``, table ``EXTRA_BASES``) bases the models of the
``file`` and ``fileUploadPostResponse`` schemas on these ``LosantModel`` subclasses. The
work is done in ``losant_fluent._files``; the result finds the pipeline it was read through.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar

from ._base import LosantModel

if TYPE_CHECKING:
    import requests

__all__ = ["FileResultMixin", "FileUploadMixin"]


class FileResultMixin(LosantModel):
    """``download(dest)`` for a file result."""

    # Items of a listing get the pipeline their page came through (see Pipeline.decode).
    __losant_needs_pipeline__: ClassVar[bool] = True

    def download(self, dest: str | os.PathLike[str] | BinaryIO, progress: bool = False, *,
                 api: Any = None, timeout: float | None = None) -> int:
        """Stream this file's ``url`` to ``dest`` (a path, a directory or a binary file).

        No Losant token is sent to the file host. ``progress=True`` shows a progress bar
        (the ``data`` extra). Returns the number of bytes written. ``api=`` is needed only
        for a file that was not read through an API (built by hand, or unpickled).
        """
        from .._files import download

        return download(self, dest, progress=progress, api=api, timeout=timeout)

    async def adownload(self, dest: str | os.PathLike[str] | BinaryIO, progress: bool = False,
                        *, api: Any = None, timeout: float | None = None) -> int:
        """``download`` for a file read through an ``AsyncAPI``, awaited."""
        from .._files import adownload

        return await adownload(self, dest, progress=progress, api=api, timeout=timeout)


class FileUploadMixin(FileResultMixin):
    """``upload_file(data)`` for the result of creating a file (a signed upload target)."""

    def upload_file(self, data: Any, *, filename: str | None = None,
                    content_type: str | None = None, api: Any = None,
                    timeout: float | None = None) -> requests.Response:
        """Upload ``data`` (bytes, a path or a binary file object) to ``upload.url``.

        A multipart POST with every ``upload.fields`` entry first and the content last (a
        part named ``file``), without the Losant token or any other API header. Returns the
        storage host's 2xx answer; raises a ``LosantError`` (``http_response()``) otherwise.
        """
        from .._files import upload_file

        return upload_file(self, data, filename=filename, content_type=content_type,
                           api=api, timeout=timeout)

    async def aupload_file(self, data: Any, *, filename: str | None = None,
                           content_type: str | None = None, api: Any = None,
                           timeout: float | None = None) -> requests.Response:
        """``upload_file`` for a file created through an ``AsyncAPI``, awaited."""
        from .._files import aupload_file

        return await aupload_file(self, data, filename=filename, content_type=content_type,
                                  api=api, timeout=timeout)
