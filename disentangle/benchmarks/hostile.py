"""Hostile values for every named endpoint of the explorer app, and how to judge the answers.

Used by the property-based test (`tests/app/test_hostile.py`, which draws
values with hypothesis) and by `bench.py hostile` (a fixed list, every value in
every argument of every endpoint, through `gradio_client` against a served
app). An answer is *clean* when it is either a valid result or one clear
message: no server path, no Python exception text, no "failed on the server"
(the app's word for a bug), and never a transport failure (an HTTP 500 or a
dropped connection).
"""
from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: Values no endpoint should choke on: non-finite and huge numbers, wrong types,
#: long and odd text, references that do not exist, paths.
HOSTILE: tuple[Any, ...] = (
    math.nan, math.inf, -math.inf, -1, 0, 0.5, 1e308, -1e308, 2**70, -(2**63), 10**400,
    "", " ", "abc", "nan", "1e999", "9" * 5000, None, True, False, [], [1, 2], {"a": 1},
    "c:999999", "c:" + "9" * 5000, "c:-1", "u:3", "k:timbre:99", "k:nope:0", "k:" + "x" * 300 + ":0",
    "../../etc/passwd", "/etc/passwd", "<script>alert(1)</script>", "\x00", "A" * 10_000,
)

#: Signs of a message that is not meant for a user.
_LEAKS = re.compile(r"Traceback|File \"|/tmp/|/work/|/home/|site-packages|failed on the server|"
                    r"Error\(|object has no attribute|unsupported operand|cannot convert|"
                    r"index out of range|Exceeds the limit|Overflow", re.IGNORECASE)


@dataclass(frozen=True)
class Endpoint:
    """A named endpoint: its API name, valid arguments (API order, no state), the
    output index that carries a refusal message (None: no such output) and the
    argument positions Gradio itself validates before the app sees them (a file
    payload is checked by Gradio's FileData model: those are left to Gradio)."""

    name: str
    valid: tuple[Any, ...]
    message_at: int | None
    gradio_checked: tuple[int, ...] = ()

    @property
    def positions(self) -> list[int]:
        """The argument positions the app checks itself."""
        return [i for i in range(len(self.valid)) if i not in self.gradio_checked]


def endpoints(model: str, space: str, target: str, n_pickers: int = 6) -> list[Endpoint]:
    """The app's named endpoints with valid arguments for `model` and one of its `space`s."""
    any_prior = "any (whole prior)"
    return [
        Endpoint("render_point", (model, "c:3", "A", "reconstruction"), 4),
        Endpoint("project", (model, space, "PCA", 15, 0.1, 30, 1, 2, "instrument", "", [], True, 6.0, 0.7, False),
                 1),
        Endpoint("swap_ab", (), None),
        Endpoint("sweep", (model, space, 0, -1.0, 1.0, 3, "value"), 4),
        Endpoint("interpolate", (model, "all spaces", 0.0, 1.0, 3), 4),
        Endpoint("swap", (model, space), 4),
        Endpoint("toward", (model, space, target, 1.0), 4),
        Endpoint("sample", (model, 0.5, 2, 0, *([any_prior] * n_pickers)), 4),
        Endpoint("grid", (model, space, 0, 1, -1.0, 1.0, 2), 4),
        Endpoint("encode_audio", (None, "mine", "A", model), 0, gradio_checked=(0,)),
        Endpoint("export_csv", (model, space, "PCA", 15, 0.1, 30, 1, 2), None),
        Endpoint("export_wav", ("A: reconstruction",), None),
    ]


@dataclass
class Tally:
    """Per endpoint: cases tried, cases answered cleanly, the first few that were not."""

    tried: dict[str, int] = field(default_factory=dict)
    clean: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def add(self, endpoint: str, ok: bool, what: str) -> None:
        self.tried[endpoint] = self.tried.get(endpoint, 0) + 1
        self.clean[endpoint] = self.clean.get(endpoint, 0) + int(ok)
        if not ok and len(self.problems) < 20:
            self.problems.append(f"{endpoint}: {what[:300]}")


def leaks(text: str) -> bool:
    """True when `text` shows something meant for developers, not users."""
    return bool(_LEAKS.search(text))


def judge_result(result: Any, message_at: int | None) -> tuple[bool, str]:
    """A returned result: clean unless a text output leaks (see `leaks`); a file
    output (an export, given as the path of an existing file) is a result, not text."""
    outputs = result if isinstance(result, (list, tuple)) else [result]
    texts = [o for o in outputs if isinstance(o, str) and not os.path.isfile(o)]
    if message_at is not None and message_at < len(outputs) and isinstance(outputs[message_at], str):
        texts.append(outputs[message_at])
    bad = [t for t in texts if leaks(t)]
    return (not bad, bad[0] if bad else "ok")


def judge_exception(exc: BaseException) -> tuple[bool, str]:
    """A call that raised on the client: clean only for an app error with a clear message."""
    text = str(exc)
    if type(exc).__name__ != "AppError":  # transport: HTTP 500, connection lost, timeout
        return False, f"{type(exc).__name__}: {text}"
    if "has not enabled verbose error reporting" in text or leaks(text) or not text.strip():
        return False, f"AppError: {text}"
    return True, text


def cases(endpoint: Endpoint, values: tuple[Any, ...] = HOSTILE):
    """Each argument position in turn takes each hostile value, the others valid."""
    for i in endpoint.positions:
        for value in values:
            args = list(endpoint.valid)
            args[i] = value
            yield tuple(args)


def run_suite(call: Callable[[str, tuple], Any], eps: list[Endpoint],
              values: tuple[Any, ...] = HOSTILE) -> Tally:
    """Drive every case of every endpoint through `call(api_name, args)`; tally the answers."""
    tally = Tally()
    for ep in eps:
        for args in cases(ep, values):
            try:
                ok, what = judge_result(call(ep.name, args), ep.message_at)
            except Exception as exc:  # noqa: BLE001 (judged, not raised: the point is to count every failure)
                ok, what = judge_exception(exc)
            tally.add(ep.name, ok, f"{_show(args)} -> {what}")
    return tally


def _show(args: tuple) -> str:
    return "(" + ", ".join(repr(a)[:30] for a in args) + ")"


__all__ = [
    "HOSTILE",
    "Endpoint",
    "Tally",
    "cases",
    "endpoints",
    "judge_exception",
    "judge_result",
    "leaks",
    "run_suite",
]
