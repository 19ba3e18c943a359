"""Progress bars (tqdm, the optional ``data`` extra), and importing what that extra holds.

Nothing is imported until a bar or a table is asked for; a missing package raises an
``ImportError`` that names the extra to install.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

__all__ = ["EXTRA_HINT", "need", "progress_bar"]

EXTRA_HINT = "pip install 'losant-fluent[data]'"


def need(module: str, what: str) -> Any:
    """Import ``module`` (pandas, tqdm...), or say which extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        message = f"{what} needs {module}, which is not installed: install the data extra"
        raise ImportError(f"{message}, {EXTRA_HINT}", name=module) from None


def progress_bar(total: int | None, unit: str, desc: str | None = None) -> Any:
    """A tqdm progress bar on stderr, with ``update(n)`` and ``close()``.

    ``total`` None shows a count without a bar. The unit ``"B"`` (or ``"bytes"``) counts
    bytes, shown scaled (``1.50MB``); any other unit is shown as given (``items``, ``pages``).
    The bar stays on screen when closed, showing how many were done.
    """
    tqdm = need("tqdm", "a progress bar (progress=True)")
    if unit in ("B", "bytes"):
        shown: dict[str, Any] = {"unit": "B", "unit_scale": True, "unit_divisor": 1024}
    else:
        shown = {"unit": f" {unit}"}
    return tqdm.tqdm(
        total=total, desc=desc, file=sys.stderr, leave=True, dynamic_ncols=True, **shown
    )
