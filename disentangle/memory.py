"""Give freed heap memory back to the operating system (glibc's `malloc_trim`).

numpy and torch free their temporaries when a request or a build step ends, but
glibc keeps the freed pages in its arenas, so the resident set stays at its high
mark: on the default corpus the app held ~180 MB more after a cold start than
after a warm one, and the session reaper saw 2,517 MB fall to 1,021 MB after one
`malloc_trim(0)` (app/reaper.py).
"""
from __future__ import annotations

import ctypes
import ctypes.util


def release_free_heap() -> bool:
    """Return the free heap of every glibc arena to the OS; False where there is no glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.malloc_trim(0))
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to trim
        return False


__all__ = ["release_free_heap"]
