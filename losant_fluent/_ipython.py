"""How errors show in IPython and Jupyter: short tracebacks and completion that works.

Two things, installed together by :func:`install` (on ``import losant_fluent`` inside an
IPython session, by ``%load_ext losant_fluent``, and by ``python -m losant_fluent``):

* A ``LosantError`` is shown without this library's frames: the caller's line, then the
  one-line message (what IPython's ``__tracebackhide__`` does frame by frame; IPython never
  hides the frame that raised, which is always ours).
* Reading a field on a node (``app.devices(x).name``, a forgotten verb) explains that
  nothing was sent and which verb to call. Outside IPython, ``Node.__getattr__`` raises that
  message; IPython's completer refuses to evaluate objects that define ``__getattr__``
  (so ``node.get(per<TAB>`` would complete nothing), so in IPython the hook is taken off
  nodes and the same message is written when such an ``AttributeError`` is shown.
"""

from __future__ import annotations

import sys
import traceback
import types
from typing import Any

from ._exceptions import LosantError
from ._node import Node, missing_attribute

__all__ = ["explain", "format_error", "install", "user_traceback"]

_PACKAGE = __name__.partition(".")[0]


def _is_library(frame: types.FrameType) -> bool:
    name = str(frame.f_globals.get("__name__", ""))
    return name == _PACKAGE or name.startswith(_PACKAGE + ".")


def user_traceback(tb: types.TracebackType | None) -> types.TracebackType | None:
    """``tb`` without the frames of this library: the caller's lines only."""
    kept: list[types.TracebackType] = []
    while tb is not None:
        if not _is_library(tb.tb_frame):
            kept.append(tb)
        tb = tb.tb_next
    result: types.TracebackType | None = None
    for entry in reversed(kept):
        result = types.TracebackType(result, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return result


def explain(value: BaseException) -> BaseException | None:
    """What to show instead of ``value``: a ``LosantError`` as it is (to be shown without
    library frames), a field read on a node as the message saying to call a verb; ``None``
    for everything else (shown as usual)."""
    if isinstance(value, LosantError):
        return value
    if isinstance(value, AttributeError) and not isinstance(value, LosantError):
        obj, name = getattr(value, "obj", None), getattr(value, "name", None)
        if isinstance(obj, Node) and isinstance(name, str) and not name.startswith("_"):
            explained = AttributeError(missing_attribute(obj, name), name=name, obj=obj)
            explained.__traceback__ = value.__traceback__
            return explained
    return None


def _show(shell: Any, etype: type[BaseException], value: BaseException, tb: Any,
          tb_offset: int | None = None) -> None:
    shown = explain(value)
    if shown is None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return
    shell.showtraceback((type(shown), shown, user_traceback(tb)), tb_offset=tb_offset)


def format_error(value: BaseException, tb: types.TracebackType | None) -> str | None:
    """The traceback text of :func:`explain`'s cases for a plain REPL, else ``None``."""
    shown = explain(value)
    if shown is None:
        return None
    return "".join(traceback.format_exception(type(shown), shown, user_traceback(tb)))


def install(shell: Any = None) -> bool:
    """Show errors as the module docstring says in ``shell`` (the running IPython if
    ``None``). A session with its own handler of custom exceptions keeps it. Returns
    whether the handler is installed."""
    if shell is None:
        ipython = sys.modules.get("IPython")
        get = getattr(ipython, "get_ipython", None)
        shell = get() if get is not None else None
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    ours = (LosantError, AttributeError)
    custom = tuple(getattr(shell, "custom_exceptions", ()) or ())
    if custom and custom != ours:
        return False
    shell.set_custom_exc(ours, _show)
    if "__getattr__" in vars(Node):  # let IPython's completer evaluate nodes
        delattr(Node, "__getattr__")
    return True
