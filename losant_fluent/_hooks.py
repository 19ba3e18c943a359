"""Result methods whose work lives above the models: the package installs them here.

``to_dask()`` and ``to_parquet()`` of a result build clients on workers, which is the
nodes layer's business, while every result model sits in the models layer and never imports
what sends. ``losant_fluent/__init__.py`` installs the implementations when the package is
imported (always before any result exists); a result's method calls them through here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["call", "install"]

_METHODS: dict[str, Callable[..., Any]] = {}


def install(name: str, method: Callable[..., Any]) -> None:
    """Make ``method`` the implementation of the result method ``name``."""
    _METHODS[name] = method


def call(name: str, *args: Any, **kwargs: Any) -> Any:
    """Run the installed implementation of the result method ``name``."""
    method = _METHODS.get(name)
    if method is None:  # only when losant_fluent/__init__.py did not run
        raise RuntimeError(f"{name}() is installed by the losant_fluent package: "
                           "import losant_fluent first")
    return method(*args, **kwargs)
