"""Checks of every argument an explorer endpoint receives, each failing with one clear message.

The app's endpoints can be called by anything (the browser, `gradio_client`,
raw HTTP), so every number is checked to be a finite number within the range
the UI offers, every integer to be whole, every choice to be one of its
options and every reference to exist, before any work starts. A failed check
raises `UserError` (a `ValueError`) whose text names the argument and what is
allowed; it never contains a server path or a Python exception's own text.

The ranges here are also what the UI's sliders use (one source of truth).
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from disentangle.explore.projection import ProjectionParams

#: Longest text accepted where a number, a name or a reference is expected.
MAX_TEXT = 200


class UserError(ValueError):
    """A request the user (or an API client) can fix; the message says how."""


@dataclass(frozen=True)
class Range:
    """Allowed values lo..hi (inclusive) of a numeric argument."""

    lo: float
    hi: float

    def __str__(self) -> str:
        return f"{_fmt(self.lo)} .. {_fmt(self.hi)}"


# --- what the UI offers --------------------------------------------------------------
#: Projection parameters come from fixed sets: each value is one map fitted once and
#: cached, so a client cannot start an unbounded number of 20-35 s fits.
N_NEIGHBORS = (5, 10, 15, 30, 50, 100)
MIN_DIST = (0.0, 0.05, 0.1, 0.25, 0.5, 0.8)
PERPLEXITY = (5, 10, 20, 30, 50, 100)
PC = Range(1, 64)
SWEEP_VALUE = Range(-20.0, 20.0)   # a latent value, or prior stds around A
STEPS = Range(2, 15)
ALPHA = Range(-1.0, 2.0)           # interpolation: A at 0, B at 1
TOWARD_ALPHA = Range(0.0, 2.0)
SPREAD = Range(0.0, 2.0)           # sample spread w
SAMPLES = Range(1, 12)
SEED = Range(0, 2**32 - 1)
GRID_STEPS = Range(2, 6)
POINT_SIZE = Range(1.0, 30.0)
OPACITY = Range(0.05, 1.0)


# --- scalars -------------------------------------------------------------------------
def number(value: Any, name: str, allowed: Range) -> float:
    """A finite float within `allowed`; `value` may be a number or numeric text."""
    x = _as_float(value, name)
    if not allowed.lo <= x <= allowed.hi:
        raise UserError(f"{name} must be within {allowed}, got {_fmt(x)}")
    return x


def integer(value: Any, name: str, allowed: Range) -> int:
    """A whole number within `allowed` (3.0 is accepted as 3; 2.5 is refused)."""
    x = _as_float(value, name)
    if not allowed.lo <= x <= allowed.hi:
        raise UserError(f"{name} must be a whole number within {allowed}, got {_fmt(x)}")
    if x != math.floor(x):
        raise UserError(f"{name} must be a whole number, got {_fmt(x)}")
    return int(x)


def choice(value: Any, name: str, options: Sequence[Any]) -> Any:
    """`value` if it is one of `options` (compared as given), else a message listing them."""
    for option in options:
        if type(value) is not bool and value == option and isinstance(value, (str, numbers.Real)):
            return option
    shown = ", ".join(repr(o) for o in list(options)[:12]) + (", ..." if len(options) > 12 else "")
    raise UserError(f"{name} must be one of {shown}; got {_short(value)}")


def flag(value: Any, name: str) -> bool:
    """A true/false value (a checkbox)."""
    if not isinstance(value, bool):
        raise UserError(f"{name} must be true or false, got {_short(value)}")
    return value


def text(value: Any, name: str, max_len: int = MAX_TEXT) -> str:
    """A string of at most `max_len` characters (None -> "")."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise UserError(f"{name} must be text, got {_short(value)}")
    if len(value) > max_len:
        raise UserError(f"{name} is too long ({len(value)} characters; at most {max_len})")
    return value


def projection_params(method: Any, n_neighbors: Any, min_dist: Any, perplexity: Any,
                      pc_x: Any, pc_y: Any, methods: dict[str, str]) -> ProjectionParams:
    """Checked `ProjectionParams`; `methods` maps UI names ("UMAP") to method keys ("umap").

    Only the chosen method's parameters are checked: a PCA request does not
    fail on a stale t-SNE value.
    """
    key = methods.get(method, method) if isinstance(method, str) else method
    key = choice(key, "projection", sorted(set(methods.values())))
    nn, md, perp, pcs = ProjectionParams.n_neighbors, ProjectionParams.min_dist, ProjectionParams.perplexity, (1, 2)
    if key == "umap":
        nn = choice(_numeric(n_neighbors, "UMAP n_neighbors"), "UMAP n_neighbors", N_NEIGHBORS)
        md = choice(_numeric(min_dist, "UMAP min_dist"), "UMAP min_dist", MIN_DIST)
    elif key == "tsne":
        perp = choice(_numeric(perplexity, "t-SNE perplexity"), "t-SNE perplexity", PERPLEXITY)
    else:
        pcs = (integer(pc_x, "PCA x", PC), integer(pc_y, "PCA y", PC))
    return ProjectionParams(key, int(nn), float(md), float(perp), pcs)


# --- helpers -------------------------------------------------------------------------
def _as_float(value: Any, name: str) -> float:
    if isinstance(value, bool) or value is None:
        raise UserError(f"{name} must be a number, got {_short(value)}")
    if isinstance(value, str):
        if len(value) > 40:
            raise UserError(f"{name} must be a number, got text of {len(value)} characters")
        try:
            value = float(value)
        except ValueError:
            raise UserError(f"{name} must be a number, got {_short(value)}") from None
    if not isinstance(value, numbers.Real):
        raise UserError(f"{name} must be a number, got {_short(value)}")
    try:
        x = float(value)
    except OverflowError:  # an int with hundreds of digits
        raise UserError(f"{name} is far out of range") from None
    if not math.isfinite(x):
        raise UserError(f"{name} must be a finite number, got {_fmt(x)}")
    return x


def _numeric(value: Any, name: str) -> float:
    """A finite number (for matching against a set of allowed values)."""
    return _as_float(value, name)


def _fmt(x: float) -> str:
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) < 1e15):
        return str(int(x))
    return f"{x:.6g}"


def _short(value: Any) -> str:
    """A safe, short rendering of a bad value for a message."""
    if isinstance(value, (list, tuple, dict, set)):
        return f"a {type(value).__name__} of {len(value)} values"
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


__all__ = [
    "ALPHA",
    "GRID_STEPS",
    "MIN_DIST",
    "N_NEIGHBORS",
    "OPACITY",
    "PC",
    "PERPLEXITY",
    "POINT_SIZE",
    "SAMPLES",
    "SEED",
    "SPREAD",
    "STEPS",
    "SWEEP_VALUE",
    "TOWARD_ALPHA",
    "Range",
    "UserError",
    "choice",
    "flag",
    "integer",
    "number",
    "projection_params",
    "text",
]
