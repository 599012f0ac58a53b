"""release_free_heap: glibc's malloc_trim where there is one, False elsewhere."""
from __future__ import annotations

import ctypes

from disentangle import memory


def test_returns_whether_memory_went_back_and_false_without_glibc(monkeypatch):
    junk = [bytearray(4096) for _ in range(20000)]  # ~80 MB of small blocks, then freed
    del junk
    assert isinstance(memory.release_free_heap(), bool)

    def no_libc(*args, **kwargs):
        raise OSError("no libc here")

    monkeypatch.setattr(ctypes, "CDLL", no_libc)
    assert memory.release_free_heap() is False
