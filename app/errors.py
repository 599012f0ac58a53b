"""How the app answers bad requests: one clear warning, one log line, no internals.

Every handler is wrapped in `user_errors`. A `ValueError` raised by the app or
the `disentangle` package (argument checks in `disentangle.explore.validate`,
actions, audio checks) is the user's to fix: it becomes a `gr.Warning` with its
message, logged as one line. Anything else is a bug: logged with its traceback,
and the user only learns that the action failed on the server.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import gradio as gr

from disentangle.audio.io import AudioError
from disentangle.explore.validate import UserError

APP = Path(__file__).resolve().parent
log = logging.getLogger("disentangle.app")
#: An absolute path in a message (e.g. Gradio's upload folder): shown as its last part.
_PATH = re.compile(r"(?:/[^\s/:'\"]+)+/([^\s/:'\"]+)")


def user_message(exc: BaseException) -> str | None:
    """What to tell the user about `exc`, or None when it is not theirs to fix (a bug).

    Ours are `ValueError`s raised by this app or the `disentangle` package
    (validation, actions, audio checks); a `ValueError` from inside another
    library carries that library's wording and is treated as a bug.
    """
    if not isinstance(exc, ValueError):
        return None
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    module = tb.tb_frame.f_globals.get("__name__", "") if tb is not None else ""
    in_app = tb is not None and Path(tb.tb_frame.f_code.co_filename).resolve().parent == APP
    if not isinstance(exc, (UserError, AudioError)) and not (module.startswith("disentangle") or in_app):
        return None
    text = exc.reason if isinstance(exc, AudioError) else str(exc)
    return _PATH.sub(r"\1", text.strip())[:300]


def user_errors(n_outputs: int, message_at: int | None = None) -> Callable:
    """Bad input -> one `gr.Warning` naming the problem, not an error badge on every output.

    The outputs are left as they were (`gr.skip()`), except the markdown at
    `message_at`, which shows the problem so no stale success text stays.
    A user error is logged as one line; anything else is a bug, logged with its
    traceback, and the user is told only that it failed.
    """
    def wrap(fn: Callable) -> Callable:
        @wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                message = user_message(exc)
                if message is None:
                    log.exception("%s failed", fn.__name__)
                    message = f"{fn.__name__} failed on the server (the error is logged there)"
                else:
                    log.info("%s refused: %s", fn.__name__, message)
                gr.Warning(message)
                out = [gr.skip() for _ in range(n_outputs)]
                if message_at is not None:
                    out[message_at] = f"**Not done:** {message}"
                return out[0] if n_outputs == 1 else tuple(out)
        return wrapper
    return wrap


def raw_inputs(*components: gr.components.Component) -> None:
    """Hand these inputs' payloads to the handlers unconverted.

    Gradio's own conversion turns NaN into "cannot convert float NaN to
    integer", text into a comparison error, and an unknown choice into an
    error it logs with a full traceback; the handlers check every argument
    themselves (`disentangle.explore.validate`), with one clear message and
    one log line.
    """
    for component in components:
        component.preprocess = _unchanged  # type: ignore[method-assign]  # on purpose: per instance, see above


def _unchanged(payload: Any) -> Any:
    return payload
