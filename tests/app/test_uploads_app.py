"""The app's upload limit (said in the UI), its cache cleanup and its export folder."""
from __future__ import annotations

from disentangle.explore import uploads


def test_the_app_limits_upload_size_says_so_and_cleans_its_cache(explorer):
    from layout import DELETE_CACHE, build_demo, launch_options

    assert launch_options("127.0.0.1", 7860)["max_file_size"] == uploads.MAX_UPLOAD_BYTES
    demo = build_demo(explorer, "pca")
    assert demo.delete_cache == DELETE_CACHE
    labels = [getattr(b, "label", "") or "" for b in demo.blocks.values()]
    assert any(f"at most {uploads.MAX_UPLOAD_MB} MB" in label for label in labels)


def test_old_exports_are_removed(tmp_path, monkeypatch):
    import os

    import ui_handlers

    monkeypatch.setattr(ui_handlers, "EXPORTS", tmp_path / "exports")
    first = ui_handlers.export_dir()
    os.utime(first, (0, 0))
    second = ui_handlers.export_dir()
    assert not first.exists() and second.exists()


def test_session_state_expires_and_live_sessions_are_capped(explorer):
    import gradio as gr
    from layout import MAX_LIVE_SESSIONS, build_demo, launch_options

    demo = build_demo(explorer, "pca", session_ttl_s=30)
    states = [b for b in demo.blocks.values() if isinstance(b, gr.State)]
    assert states and all(s.time_to_live == 30 for s in states)
    assert launch_options("127.0.0.1", None)["state_session_capacity"] == MAX_LIVE_SESSIONS
