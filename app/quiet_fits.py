"""Background map fits pause while listeners are using the app.

On a first start the app fits every other space's map in the `FitWorker`'s
child process. At the lowest CPU priority it still took a core from the
server and the browser's rendering: on data/notes, click -> sound p95 was
137-372 ms and space switches p95 1.15-1.54 s while the fits ran, against
72-82 ms and 0.75-0.85 s without them (session 10, `scripts/bench.py browser
--precompute`). So every HTTP request but Gradio's heartbeat pauses a
background fit (SIGSTOP), and the fit goes on once no request has come for
QUIET_S seconds: the maps are fitted while the listener listens or reads.
A fit that someone waits for is never paused (`FitWorker.urgent`).
"""
from __future__ import annotations

import threading
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from disentangle.explore.fit_worker import FitWorker

#: Seconds without a request before a paused background fit goes on: a click's
#: answers, the page's redraw and the next click's hover fit in it.
QUIET_S = 1.0
#: Long-lived requests that say nothing about a listener's activity.
IGNORED = ("/heartbeat/",)


class Quiet:
    """Pauses `worker` on activity and resumes it after `quiet_s` without any (a daemon thread)."""

    def __init__(self, worker: FitWorker, quiet_s: float = QUIET_S):
        self.worker = worker
        self.quiet_s = quiet_s
        self._last = 0.0
        self._lock = threading.Lock()  # a touch never falls between the quiet check and the resume
        self._wake = threading.Event()
        threading.Thread(target=self._run, name="quiet-fits", daemon=True).start()

    def touch(self) -> None:
        """A request came: pause the background fit at once."""
        with self._lock:
            self._last = time.monotonic()
            self.worker.pause()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            left = self._last + self.quiet_s - time.monotonic()
            if left > 0:
                time.sleep(left)
                continue
            with self._lock:
                if time.monotonic() - self._last >= self.quiet_s:
                    self._wake.clear()
                    self.worker.resume()


class QuietFits:
    """ASGI middleware: each HTTP request but the heartbeat touches `quiet`."""

    def __init__(self, app: ASGIApp, quiet: Quiet):
        self.app = app
        self.quiet = quiet

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not any(part in scope["path"] for part in IGNORED):
            self.quiet.touch()
        await self.app(scope, receive, send)
