"""Typed references to what a user can select: a corpus item, an own sound, a mixture mean.

The browser and the API speak strings ("c:12", "u:0", "k:timbre:3"); they are
parsed once, here, into a `Ref`, and everything past the UI boundary uses the
`Ref`. Corpus items are referenced by their row in `corpus.items`, so a
selection survives switching models.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["corpus", "user", "component"]

_TEXT = re.compile(r"^(?:(c|u):(\d{1,9})|k:([A-Za-z0-9_.\-]{1,64}):(\d{1,6}))$")


@dataclass(frozen=True)
class Ref:
    """One selectable thing.

    kind "corpus": row `index` of the corpus; "user": the session's own sound
    `index`; "component": mixture component `index` of latent space `space`.
    """

    kind: Kind
    index: int
    space: str | None = None

    def __post_init__(self) -> None:
        if self.index < 0:
            raise ValueError(f"a reference index cannot be negative (got {self.index})")
        if (self.kind == "component") != (self.space is not None):
            raise ValueError("a component reference needs a space, and only it")

    @classmethod
    def corpus(cls, row: int) -> Ref:
        return cls("corpus", int(row))

    @classmethod
    def user(cls, j: int) -> Ref:
        return cls("user", int(j))

    @classmethod
    def component(cls, space: str, k: int) -> Ref:
        return cls("component", int(k), space)

    @classmethod
    def parse(cls, text: str) -> Ref:
        """"c:<row>", "u:<j>" or "k:<space>:<k>" -> Ref; ValueError naming the text otherwise."""
        m = _TEXT.match(str(text).strip())
        if m is None:
            shown = str(text)[:40]
            raise ValueError(f"not a point reference: {shown!r} (expected c:<row>, u:<j> or k:<space>:<k>)")
        kind, index, space, k = m.groups()
        if space is not None:
            return cls.component(space, int(k))
        return cls.corpus(int(index)) if kind == "c" else cls.user(int(index))

    def __str__(self) -> str:
        if self.kind == "corpus":
            return f"c:{self.index}"
        if self.kind == "user":
            return f"u:{self.index}"
        return f"k:{self.space}:{self.index}"


def parse_click(value: str | None) -> Ref | None:
    """The click bridge writes "<ref>|<timestamp>" (the timestamp makes a repeated
    click on one point a change); the reference, or None for an empty value.

    Raises ValueError for text that is not a reference.
    """
    if value is None or not str(value).strip():
        return None
    return Ref.parse(str(value).split("|", 1)[0])


def as_ref(value: Ref | str | None) -> Ref | None:
    """A `Ref` from a `Ref`, its text form, or None."""
    if value is None or isinstance(value, Ref):
        return value
    return parse_click(value)
