"""Background map fits pause while requests come and go on when the app is quiet (app/quiet_fits.py)."""
from __future__ import annotations

import time

from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.middleware import Middleware


class FakeWorker:
    """Records pause / resume calls as a FitWorker would take them."""

    def __init__(self):
        self.paused = False
        self.calls: list[str] = []

    def pause(self):
        self.paused = True
        self.calls.append("pause")

    def resume(self):
        if self.paused:
            self.calls.append("resume")
        self.paused = False


def test_requests_pause_and_quiet_resumes():
    from quiet_fits import Quiet, QuietFits

    worker = FakeWorker()
    quiet = Quiet(worker, quiet_s=0.3)  # type: ignore[arg-type]
    app = FastAPI(middleware=[Middleware(QuietFits, quiet=quiet)])
    app.add_api_route("/x", lambda: {"ok": True})
    app.add_api_route("/gradio_api/heartbeat/abc", lambda: {"ok": True})
    client = TestClient(app)
    client.get("/gradio_api/heartbeat/abc")  # the heartbeat says nothing about a listener
    assert worker.calls == []
    client.get("/x")
    assert worker.paused
    for _ in range(4):  # requests closer than quiet_s keep it paused
        time.sleep(0.1)
        client.get("/x")
        assert worker.paused
    deadline = time.monotonic() + 5
    while worker.paused and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not worker.paused and worker.calls[-1] == "resume"
    assert worker.calls.count("resume") == 1  # one resume, after the last request
