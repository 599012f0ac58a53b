"""Per-user state of the explorer (kept in `gr.State`, one per browser session).

A session is a plain dict so Gradio can deep-copy it per user:
  "A", "B": references of the selected items (or None);
  "user": the user's own sounds, each {"name": str, "clip": (n_samples,) float32};
  "renders": the last rendered clips by name, {name: (sample_rate, (N,) float32)}.
References are strings: "c:<row>" a corpus item, "u:<j>" the user's sound j,
"k:<space>:<k>" mixture component k of a space. Nothing here is shared
between users; the explorer's models and caches are shared read-only.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

Session = dict[str, Any]

_REF = re.compile(r"^(c:\d+|u:\d+|k:[^:]+:\d+)$")
#: How many rendered clips a session keeps for export (the newest win).
MAX_RENDERS = 24


def new_session() -> Session:
    """An empty session."""
    return {"A": None, "B": None, "user": [], "renders": {}}


def parse_click(value: str | None) -> str | None:
    """The bridge writes "<ref>|<timestamp>" (the timestamp makes repeated
    clicks on one point count as changes); return the reference or None."""
    if not value:
        return None
    ref = str(value).split("|", 1)[0].strip()
    return ref if _REF.match(ref) else None


def select(session: Session, ref: str, slot: str = "A") -> Session:
    """Set slot "A" or "B" to `ref` (returns the same, updated dict)."""
    if slot not in ("A", "B"):
        raise ValueError(f"slot must be 'A' or 'B', got {slot!r}")
    session[slot] = ref
    return session


def add_user_sound(session: Session, name: str, clip: np.ndarray) -> str:
    """Store a user's clip; returns its reference "u:<j>"."""
    session["user"].append({"name": name, "clip": np.asarray(clip, dtype=np.float32)})
    return f"u:{len(session['user']) - 1}"


def remember(session: Session, name: str, sample_rate: int, audio: np.ndarray) -> None:
    """Keep a rendered clip for WAV export, dropping the oldest beyond MAX_RENDERS."""
    renders = session.setdefault("renders", {})
    renders.pop(name, None)
    renders[name] = (int(sample_rate), np.asarray(audio, dtype=np.float32))
    while len(renders) > MAX_RENDERS:
        renders.pop(next(iter(renders)))
