"""Importing a module that needs an optional extra, or saying which extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["need"]


def need(extra: str, module: str, packages: tuple[str, ...], what: str | None = None
         ) -> ModuleType:
    """Import ``module``; when one of ``packages`` is missing, ``ModuleNotFoundError``
    naming the extra (``pip install 'losant-fluent[EXTRA]'``)."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name not in packages:
            raise
        raise ModuleNotFoundError(
            f"{what or module.rsplit('.', 1)[-1]} needs {exc.name}, which is not installed: "
            f"pip install 'losant-fluent[{extra}]'",
            name=exc.name,
        ) from None
