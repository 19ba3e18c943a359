"""Tables and progress bars for data scripts (the optional ``data`` extra: pandas, tqdm).

Placeholder: the real conversions are being written (see docs/data.md when it exists).
"""

from __future__ import annotations

from typing import Any

__all__ = ["progress_bar", "to_pandas"]


def _need(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(
            f"this needs {module}: install the data extra, pip install 'losant-fluent[data]'"
        ) from None


def progress_bar(total: int | None, unit: str, desc: str | None) -> Any:
    """A progress bar on stderr with ``update(n)`` and ``close()``."""
    tqdm = _need("tqdm")
    return tqdm.tqdm(total=total, unit=f" {unit}", desc=desc)


def to_pandas(result: Any, *, progress: bool = False) -> Any:
    """``result`` as a DataFrame."""
    raise NotImplementedError
