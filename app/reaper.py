"""Drop whole Gradio sessions once they are idle or closed, and give the freed memory back.

Gradio's state expiry (`gr.State(time_to_live=...)`, `delete_state`) removes a
session's `gr.State` values only. The session's `SessionState` stays in
`StateHolder.session_data` until `state_session_capacity` sessions push it out,
and it holds a copy of the last value of *every* input and output component
of that session: the map's Plotly JSON, every strip figure (spectrogram
heatmaps as JSON numbers, 0.7-1.8 MB each), file payloads: ~4 MB of JSON per
heavy session on the 400-item benchmark corpus, kept after its `gr.State` expired.

`install_reaper(demo, ttl_s)` (after `launch`) makes Gradio's once-a-second
expiry pass (on the server's event loop, so no lock is needed against it)
also drop every session idle for `ttl_s` (and with no event in flight) or
closed by its tab, then return freed heap pages to the OS (`malloc_trim`, in
a thread of its own). The second is what brings RSS back: the heavy renders'
temporaries (numpy, torch, many worker threads, so many glibc arenas) are
freed when each request ends, but glibc keeps the freed pages; with 8 heavy
sessions RSS stood at 2,517 MB after their state was gone, and one
`malloc_trim(0)` took it to 1,021 MB (the baseline was 1,161 MB).
"""
from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Collection
from typing import Any

from disentangle.memory import release_free_heap

log = logging.getLogger("disentangle.app")


def reap(holder: Any, ttl_s: float, now: datetime.datetime | None = None,
         busy: Collection[str] = ()) -> list[str]:
    """Remove the sessions of Gradio's `StateHolder` idle for `ttl_s` or closed; returns their ids.

    busy: sessions with an event queued or running (a long render is not idleness).
    """
    now = now or datetime.datetime.now()
    gone = []
    for sid in list(holder.session_data):
        session = holder.session_data.get(sid)
        last = holder.time_last_used.get(sid)
        idle = last is None or (now - last).total_seconds() > ttl_s
        if session is not None and sid not in busy and (idle or getattr(session, "is_closed", False)):
            gone.append(sid)
    with holder.lock:
        for sid in gone:
            holder.session_data.pop(sid, None)
            holder.time_last_used.pop(sid, None)
    return gone


class Trimmer:
    """Calls `malloc_trim` in its own thread when asked, at most once per `every_s`.

    Trimming gigabytes of freed heap took 0.1-6 s on the loaded 2-core machine:
    on the server's event loop that stalled every client (a benchmark client
    timed out), so it never runs there.
    """

    def __init__(self, every_s: float = 10.0):
        self.every_s = every_s
        self.trims = 0
        self._wanted = threading.Event()
        threading.Thread(target=self._run, name="malloc-trim", daemon=True).start()

    def request(self) -> None:
        self._wanted.set()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            start = time.perf_counter()
            if release_free_heap():
                self.trims += 1
            log.info("freed heap returned to the OS in %.0f ms", 1000 * (time.perf_counter() - start))
            time.sleep(self.every_s)


def install_reaper(demo: Any, ttl_s: float, trim: bool = True) -> bool:
    """Hook `reap` into the launched `demo`'s expiry pass; False when Gradio has no state holder."""
    holder = getattr(demo, "state_holder", None)
    expire = getattr(holder, "delete_all_expired_state", None)
    if holder is None or expire is None or not hasattr(holder, "time_last_used"):
        log.warning("sessions are not reaped: this Gradio has no StateHolder.time_last_used")
        return False
    trimmer = Trimmer() if trim else None

    def expire_and_reap() -> None:
        expire()
        pending = getattr(getattr(demo, "_queue", None), "pending_event_ids_session", None) or {}
        # Gradio leaves a session's entry behind as an empty set once its events are done.
        gone = reap(holder, ttl_s, busy={sid for sid, ids in list(pending.items()) if ids})
        if gone:
            log.info("dropped %d idle or closed session(s)", len(gone))
            if trimmer is not None:
                trimmer.request()

    holder.delete_all_expired_state = expire_and_reap
    return True


__all__ = ["Trimmer", "install_reaper", "reap"]
