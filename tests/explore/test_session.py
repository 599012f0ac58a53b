"""The per-user `Session`: slots, own sounds, bounded renders."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from disentangle.explore.refs import Ref
from disentangle.explore.session import MAX_RENDERS, Clip, Session


def test_slots_and_swap():
    s = Session().select(Ref.corpus(1), "A").select(Ref.corpus(2), "B")
    assert (s.get("A"), s.get("B")) == (Ref.corpus(1), Ref.corpus(2))
    s.swap()
    assert (s.a, s.b) == (Ref.corpus(2), Ref.corpus(1))
    with pytest.raises(ValueError, match="slot"):
        s.select(Ref.corpus(0), "C")


def test_user_sounds_and_renders_are_bounded_and_copy_apart():
    s = Session()
    ref = s.add_user_sound("mine", np.ones(10), 8000)
    assert ref == Ref.user(0) and s.user_sound(ref).clip.dtype == np.float32
    with pytest.raises(ValueError, match="upload it again"):
        s.user_sound(Ref.user(3))
    for n in range(MAX_RENDERS + 5):
        s.remember(f"r{n}", Clip(8000, np.zeros(4)))
    assert len(s.renders) == MAX_RENDERS and "r0" not in s.renders
    other = copy.deepcopy(s)  # what gr.State does per user
    other.select(Ref.corpus(9))
    assert s.a is None
