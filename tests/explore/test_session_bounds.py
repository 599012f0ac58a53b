"""A session's audio stays under a byte cap, kept as int16; shared memos are byte-bounded."""
from __future__ import annotations

import numpy as np

from disentangle.explore import session as session_mod
from disentangle.explore.memo import LRU, nbytes
from disentangle.explore.session import Clip, Session


def second(sr=22050, level=0.5):
    return Clip(sr, np.full(sr, level, np.float32))


def test_renders_are_kept_as_int16_within_the_byte_cap(monkeypatch):
    monkeypatch.setattr(session_mod, "MAX_SESSION_BYTES", 5 * 22050 * 2)  # five seconds of int16
    s = Session()
    for k in range(8):
        s.remember(f"clip {k}", second())
    assert all(c.audio.dtype == np.int16 for c in s.renders.values())
    assert s.nbytes() <= session_mod.MAX_SESSION_BYTES
    assert list(s.renders) == [f"clip {k}" for k in range(3, 8)]  # the newest stay
    assert s.renders["clip 7"].audio[0] == int(0.5 * 32767)
    s.set_steps("sweep", {f"step {k}": second() for k in range(3)})
    s.set_steps("grid", {f"cell {k}": second() for k in range(3)})
    assert s.nbytes() <= session_mod.MAX_SESSION_BYTES and list(s.steps) == ["grid"]
    assert list(s.renders) == ["clip 7"]


def test_the_default_cap_holds_a_heavy_session():
    s = Session()
    for k in range(40):  # e.g. 6x6 grids and 15-step sweeps: long joined clips
        s.remember(f"grid {k} (all steps)", Clip(22050, np.zeros(22050 * 40, np.float32)))
        s.set_steps(f"panel {k % 5}", {f"cell {j}": second() for j in range(36)})
    assert s.nbytes() <= session_mod.MAX_SESSION_BYTES


def test_lru_bounds_bytes_as_well_as_count():
    memo: LRU[np.ndarray] = LRU(100, max_bytes=3000)
    for k in range(10):
        memo.put(k, np.zeros(250, np.float32))  # 1000 bytes each
    assert len(memo) == 3 and memo.bytes == 3000 and memo.get(9) is not None and memo.get(6) is None
    memo.put("huge", np.zeros(10_000, np.float32))
    assert len(memo) == 0  # a value over the cap is not kept
    assert nbytes({"a": (np.zeros(4, np.float64), [np.zeros(2, np.int16)])}) == 36
