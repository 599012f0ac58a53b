"""Idle and closed sessions are dropped whole (Gradio kept each one's last outputs until 200 piled up)."""
from __future__ import annotations

import datetime
import socket
import threading
import time
from types import SimpleNamespace

import pytest
from reaper import install_reaper, reap


def holder_with(**sessions):
    """A stand-in StateHolder: id -> (seconds since last use, closed)."""
    now = datetime.datetime.now()
    return SimpleNamespace(
        lock=threading.Lock(),
        session_data={sid: SimpleNamespace(is_closed=closed) for sid, (_, closed) in sessions.items()},
        time_last_used={sid: now - datetime.timedelta(seconds=age) for sid, (age, _) in sessions.items()})


def test_reap_drops_idle_and_closed_sessions_and_keeps_the_rest():
    holder = holder_with(idle=(31, False), closed=(1, True), busy=(2, False))
    assert sorted(reap(holder, ttl_s=30)) == ["closed", "idle"]
    assert list(holder.session_data) == ["busy"] and list(holder.time_last_used) == ["busy"]
    rendering = holder_with(long_render=(90, False))  # its only event started 90 s ago and still runs
    assert reap(rendering, ttl_s=30, busy={"long_render"}) == [] and list(rendering.session_data)


@pytest.mark.slow
def test_a_served_sessions_whole_state_is_dropped_after_its_ttl(explorer):
    """Before the reaper, Gradio's expiry emptied gr.State but kept the session (its
    copy of every output: map JSON, strip figures) until 200 sessions pushed it out."""
    from gradio_client import Client
    from layout import build_demo

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    demo = build_demo(explorer, "pca", session_ttl_s=1).queue()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        assert install_reaper(demo, ttl_s=30)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
        client.predict("tiny", "pitch", 0, -1, 1, 3, "value", api_name="/sweep")
        holder = demo.state_holder
        assert len(holder.session_data) == 1
        (sid,) = holder.time_last_used
        holder.time_last_used[sid] -= datetime.timedelta(seconds=60)  # idle past the TTL
        deadline = time.monotonic() + 15
        while holder.session_data and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not holder.session_data and not holder.time_last_used
        # the same client goes on with a fresh session
        md = client.predict("tiny", "c:3", "A", "reconstruction", api_name="/render_point")[4]
        assert "sine_55_pp" in md
    finally:
        demo.close()
