"""A first start serves a first part of the corpus at once and switches to the full one when it is built."""
from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from disentangle.data.build import BuildReport
from disentangle.data.builtin import PARTIAL_MARK, build_first_part, finish_staged, is_partial
from disentangle.data.notes import PERCUSSION, plan_percussion
from disentangle.data.schema import Corpus, load_corpus
from disentangle.explore.hub import ExplorerHub
from disentangle.explore.projection import ProjectionParams
from disentangle.explore.session import Session
from disentangle.explore.staged import Staged

TINY = {"sources": ["timgm6mb"], "instruments": ["violin", "flute"], "pitches": [60, 67, 72],
        "percussion": False, "progress": False}


def test_first_part_is_marked_resumes_and_the_finished_corpus_lists_it_first(tmp_path):
    out = tmp_path / "notes"
    first = build_first_part(out, per_source=4, **TINY)
    assert is_partial(out) and len(first) == 4
    again = BuildReport()  # a first start stopped after the first part: its files are kept
    assert [i.path for i in build_first_part(out, per_source=4, report=again, **TINY).items] == \
        [i.path for i in first.items] and again.existing == 4 and again.rendered == 0
    report = BuildReport()
    full = finish_staged(out, first, report=report, **TINY)
    assert not is_partial(out) and not (out / PARTIAL_MARK).exists()
    assert len(full) == 2 * 3 * 3 * 2 and report.existing == 4 and report.rendered == len(full) - 4
    assert [i.path for i in full.items[:4]] == [i.path for i in first.items]  # rows keep their notes
    assert [i.path for i in load_corpus(out).items] == [i.path for i in full.items]


def test_the_first_part_has_every_drum():
    part = plan_percussion(max_notes=len(PERCUSSION))
    assert {s.instrument.name for s in part} == {d.name for d in PERCUSSION}
    assert {s.path for s in part} <= {s.path for s in plan_percussion()}  # a subset: its files are kept


def test_first_start_is_the_default_notes_folder_without_a_finished_corpus(tmp_path, monkeypatch):
    from disentangle.explore import corpora

    monkeypatch.setattr(corpora, "DATA", tmp_path)
    notes = tmp_path / "notes"
    assert corpora.first_start(notes)  # a fresh Space: no data/ at all
    notes.mkdir()
    assert corpora.first_start(notes)  # stopped before any metadata.csv
    (notes / "metadata.csv").write_text("path\n")
    assert not corpora.first_start(notes)  # finished: opened as it is
    (notes / PARTIAL_MARK).write_text("")
    assert corpora.first_start(notes)  # stopped while the rest rendered: resumed
    assert not corpora.first_start(tmp_path / "phrases") and not corpora.first_start(tmp_path / "mine")


def first_part(explorer, k: int):
    from disentangle.explore.explorer import Explorer

    corpus = explorer.corpus
    return Explorer(explorer.models_in, Corpus(corpus.root, corpus.items[:k], corpus.name), gl_iters=8,
                    cache_root=explorer.cache_root).build(None, ProjectionParams("pca"))


def held_build(full, release: threading.Event):
    def build(say):
        say("rendering the rest")
        assert release.wait(120)
        return full
    return build


def test_the_hub_serves_the_first_part_then_swaps_in_the_full_corpus(explorer):
    from corpus_ui import CorpusHandlers
    from ui_handlers import Handlers

    k = len(explorer.corpus) // 3
    part = first_part(explorer, k)
    hub = ExplorerHub(explorer.models_in, part, gl_iters=8, params=ProjectionParams("pca"))
    release = threading.Event()
    staged = Staged(held_build(explorer, release), part)
    hub.stage(staged)
    h, ch = Handlers(hub, "pca"), CorpusHandlers(Handlers(hub, "pca"))
    late = f"c:{len(explorer.corpus) - 1}"  # only the full corpus has it
    staged.start()
    try:
        out = h.render_point("tiny", "c:1", "A", "reconstruction", Session())
        assert out[0] is not None  # a click answers while the rest is being built
        with pytest.warns(UserWarning):
            refused = h.render_point("tiny", late, "A", "reconstruction", Session())
        assert refused[4].startswith("**Not done:**")
        line, header, timer = ch.stage_view()
        assert "first part" in line and "rendering the rest" in line and f"{k} items" in header
        assert timer.active
        tick = ch.stage_tick(hub.default_name)
        assert tick[3] == k and tick[2].active  # the page's count of items served: unchanged so far
        release.set()
        assert staged.done.wait(60)
    finally:
        release.set()
    assert hub.default is explorer and staged.status().full == len(explorer.corpus)
    after = h.render_point("tiny", late, "A", "reconstruction", Session())
    assert after[0] is not None and Path(explorer.corpus.items[-1].path).stem in after[4]
    assert h.render_point("tiny", "c:1", "A", "reconstruction", Session())[4] == out[4]  # row 1: the same note
    line, _text, timer, served = ch.stage_tick(hub.default_name)
    assert "full" in line and served == len(explorer.corpus) and not timer.active  # the map redraws, then stops
    line, header, timer = ch.stage_view()
    assert line == "" and f"{len(explorer.corpus)} items" in header and not timer.active  # a page opened after
    skipped = ch.stage_tick("another corpus")
    assert skipped[1] == skipped[3] == {"__type__": "update"}  # another corpus's map and header stay


def test_a_failed_build_keeps_the_first_part_and_says_why(explorer):
    part = first_part(explorer, 10)
    hub = ExplorerHub(explorer.models_in, part, gl_iters=8)

    def broken(say):
        say("rendering the rest")
        raise OSError("disk full")

    staged = Staged(broken, part)
    hub.stage(staged)
    staged.start()
    assert staged.done.wait(30)
    status = hub.stage_status()
    assert hub.default is part and status.done and status.full is None
    assert "first part" in status.text() and "disk full" in status.text()


@pytest.mark.slow
def test_the_served_app_answers_on_the_first_part_then_serves_the_full_corpus(explorer):
    from gradio_client import Client
    from layout import build_demo

    part = first_part(explorer, len(explorer.corpus) // 3)
    hub = ExplorerHub(explorer.models_in, part, gl_iters=8, params=ProjectionParams("pca"))
    release = threading.Event()
    staged = Staged(held_build(explorer, release), part)
    hub.stage(staged)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    demo = build_demo(hub, "pca").queue()
    ids = {c.get("props", {}).get("elem_id") for c in demo.config["components"]}
    assert {"stage_status", "items_served"} <= ids  # the page says which corpus it shows
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        staged.start()
        client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
        out = client.predict("tiny", "c:1", "A", "reconstruction", api_name="/render_point")
        assert out[0] is not None  # audio while the rest is still being built
        late, name = f"c:{len(explorer.corpus) - 1}", Path(explorer.corpus.items[-1].path).stem
        before = client.predict("tiny", late, "A", "reconstruction", api_name="/render_point")
        assert name not in str(before)  # refused: no such point yet
        release.set()
        assert staged.done.wait(60) and hub.default is explorer
        after = client.predict("tiny", late, "A", "reconstruction", api_name="/render_point")
        assert after[0] is not None and name in after[4]
        assert "/project" in client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    finally:
        release.set()
        demo.close()


def test_simulate_space_waits_for_the_line_the_app_logs():
    import importlib.util

    from disentangle.explore.staged import SERVED

    path = Path(__file__).resolve().parents[2] / "scripts" / "simulate_space.py"
    spec = importlib.util.spec_from_file_location("simulate_space", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.FULL == SERVED
