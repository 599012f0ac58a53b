"""Per-user state of the explorer (one `Session` per browser session, kept in `gr.State`).

Nothing here is shared between users; the explorer's models and caches are
shared read-only. Gradio deep-copies the initial value for each new user, so
a `Session` holds only plain data: references, the user's clips, renders.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from disentangle.explore.refs import Ref

Slot = Literal["A", "B"]
#: How many rendered clips a session keeps for export (the newest win).
MAX_RENDERS = 24
#: Bytes of audio a session keeps (renders, strip steps, own sounds): past it the
#: oldest renders go, then the steps of other panels. Clips are kept as int16.
MAX_SESSION_BYTES = 8 * 1024 * 1024


@dataclass
class Clip:
    """Mono audio (N,) at `sample_rate`: float32 in [-1, 1], or int16 once kept in a session."""

    sample_rate: int
    audio: np.ndarray

    def compact(self) -> Clip:
        """The same clip as int16 (half the bytes of float32; what playback sends anyway)."""
        from disentangle.interface import to_int16

        return Clip(int(self.sample_rate), to_int16(self.audio))


@dataclass
class UserSound:
    """A sound the user uploaded or recorded: the prepared clip (n_samples,) float32."""

    name: str
    clip: np.ndarray
    sample_rate: int


@dataclass
class Session:
    """One user's selection, own sounds and recent renders.

    a, b: the selected points. user: own sounds, referenced as Ref.user(j).
    renders: the last rendered clips by name (for WAV export, at most
    MAX_RENDERS). steps: per panel, the clips of the last strip by caption
    (picking a step plays it). selection: points picked with box or lasso.
    neighbours: the last neighbour list, for next/previous; neighbours_of: what
    it was found for (model, point, space, how many), so it is not found twice.
    hits: the last search results.
    """

    a: Ref | None = None
    b: Ref | None = None
    #: the corpus its corpus references index ("" = the one the app opened with)
    corpus: str = ""
    user: list[UserSound] = field(default_factory=list)
    renders: dict[str, Clip] = field(default_factory=dict)
    steps: dict[str, dict[str, Clip]] = field(default_factory=dict)
    selection: list[Ref] = field(default_factory=list)
    neighbours: list[Ref] = field(default_factory=list)
    neighbours_of: str = ""
    hits: list[Ref] = field(default_factory=list)

    def switch_corpus(self, name: str) -> Session:
        """Point at another corpus: references into the old one (A, B, selection,
        neighbours, search hits) are dropped; own sounds stay (returns self)."""
        if name != self.corpus:
            self.corpus = name
            self.a, self.b = (r if r is not None and r.kind == "user" else None for r in (self.a, self.b))
            self.selection, self.neighbours, self.hits = [], [], []
            self.neighbours_of = ""
        return self

    def get(self, slot: Slot) -> Ref | None:
        """The point in slot "A" or "B"."""
        return {"A": self.a, "B": self.b}[_slot(slot)]

    def select(self, ref: Ref | None, slot: Slot = "A") -> Session:
        """Put `ref` in slot "A" or "B" (returns self)."""
        if _slot(slot) == "A":
            self.a = ref
        else:
            self.b = ref
        return self

    def swap(self) -> Session:
        self.a, self.b = self.b, self.a
        return self

    def add_user_sound(self, name: str, clip: np.ndarray, sample_rate: int) -> Ref:
        """Store a user's clip; returns its reference."""
        self.user.append(UserSound(name, np.asarray(clip, dtype=np.float32), int(sample_rate)))
        return Ref.user(len(self.user) - 1)

    def user_sound(self, ref: Ref) -> UserSound:
        if ref.kind != "user" or not 0 <= ref.index < len(self.user):
            raise ValueError(f"your sound #{ref.index} is not in this session (upload it again)")
        return self.user[ref.index]

    def remember(self, name: str, clip: Clip) -> None:
        """Keep a rendered clip for WAV export, dropping the oldest beyond MAX_RENDERS."""
        self.renders.pop(name, None)
        self.renders[name] = clip.compact()
        while len(self.renders) > MAX_RENDERS:
            self.renders.pop(next(iter(self.renders)))
        self._fit_budget()

    def set_steps(self, panel: str, clips: dict[str, Clip]) -> None:
        """The clips of `panel`'s last strip by caption (compacted; the newest panel is kept longest)."""
        self.steps.pop(panel, None)
        self.steps[panel] = {cap: c.compact() for cap, c in clips.items()}
        self._fit_budget()

    def nbytes(self) -> int:
        """Bytes of audio held: renders, strip steps and own sounds."""
        return (sum(c.audio.nbytes for c in self.renders.values())
                + sum(c.audio.nbytes for clips in self.steps.values() for c in clips.values())
                + sum(u.clip.nbytes for u in self.user))

    def _fit_budget(self) -> None:
        """Drop the oldest renders, then older panels' steps, until within MAX_SESSION_BYTES."""
        while self.nbytes() > MAX_SESSION_BYTES and len(self.renders) > 1:
            self.renders.pop(next(iter(self.renders)))
        while self.nbytes() > MAX_SESSION_BYTES and len(self.steps) > 1:
            self.steps.pop(next(iter(self.steps)))


def _slot(slot: str) -> Slot:
    if slot not in ("A", "B"):
        raise ValueError(f"slot must be 'A' or 'B', got {slot!r}")
    return "A" if slot == "A" else "B"  # narrowed to the Literal without a cast
