"""Handlers of sessions, links, corpus switching and your folder as a map (issue 11)."""
from __future__ import annotations

import json
from types import SimpleNamespace

import gradio as gr
import pytest
from corpus_ui import CorpusHandlers
from session_ui import SessionHandlers
from ui_handlers import Handlers

from disentangle.explore.hub import CorpusSource, ExplorerHub
from disentangle.explore.refs import Ref
from disentangle.explore.session import Session

MAP = ("PCA", 15, 0.1, 30, 1, 2)


@pytest.fixture
def hub(explorer, world, tmp_path_factory):
    """The tiny explorer plus a second corpus ("second", the 12 ff tones), built on first switch."""
    import tiny_world

    from disentangle.data.schema import write_metadata
    from disentangle.explore.projection import ProjectionParams

    second = tiny_world.make_corpus(tmp_path_factory.mktemp("second"))
    second.items = [i for i in second.items if i.dynamics == "ff"]
    write_metadata(second.root / "metadata.csv", second.items)
    h = ExplorerHub(explorer.models_in, explorer, gl_iters=8, params=ProjectionParams("pca"))
    h.add(CorpusSource("second", lambda: second, ("tiny",)))
    return h


def test_save_then_load_restores_the_view(explorer, tmp_path):
    sh = SessionHandlers(Handlers(explorer, "pca"))
    session = Session(a=Ref.corpus(4), selection=[Ref.corpus(1), Ref.corpus(2)])
    path = sh.save("tiny", "pitch", *MAP, session)
    with open(path) as f:
        saved = json.load(f)
    assert saved["space"] == "pitch" and saved["a"] == "c:4" and path.endswith("session_tiny_pitch.json")
    out = sh.load(path, Session())
    msg, _corpus, model, space, method, *_, ab_text, sel_text, new = out
    assert msg.startswith("Session loaded") and "2 selected" in msg
    assert space["value"] == "pitch" and method["value"] == "PCA" and model["value"] == "tiny"
    assert new.a == Ref.corpus(4) and new.selection == [Ref.corpus(1), Ref.corpus(2)]
    assert "A:" in ab_text and "2 selected" in sel_text


def test_bad_session_file_gets_one_message_and_changes_nothing(explorer, tmp_path):
    sh = SessionHandlers(Handlers(explorer, "pca"))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "disentangle-session", "version": 1, "model": "nope", "space": "x",
                               "projection": {"method": "pca"}}))
    out = sh.load(str(bad), Session())
    assert out[0].startswith("**Not done:**") and "not open here" in out[0]
    assert all(o == gr.skip() for o in out[1:])  # the view stays as it was
    (tmp_path / "junk.json").write_bytes(b"\x00\x01garbage")
    assert "not JSON" in sh.load(str(tmp_path / "junk.json"), Session())[0]


def test_link_parameters_open_the_view_and_the_query_round_trips(explorer):
    sh = SessionHandlers(Handlers(explorer, "pca"))
    session = Session(a=Ref.corpus(7), selection=[Ref.corpus(3)])
    query = sh.query("tiny", "motion", *MAP, session)
    assert query.startswith("?model=tiny&space=motion") and "sel=3" in query
    from urllib.parse import parse_qsl

    request = SimpleNamespace(query_params=dict(parse_qsl(query[1:])))
    out = sh.open_link(Session(), request)
    assert out[0].startswith("Opened the linked view") and out[3]["value"] == "motion"
    assert out[-1].a == Ref.corpus(7) and out[-1].selection == [Ref.corpus(3)]
    assert sh.open_link(Session(), SimpleNamespace(query_params={}))[0] == ""  # no parameters: nothing changes
    bad = sh.open_link(Session(), SimpleNamespace(query_params={"model": "tiny", "space": "timbre", "a": "c:99"}))
    assert "outside the corpus" in bad[0]


def test_switch_corpus_builds_it_once_and_drops_old_references(hub):
    h = Handlers(hub, "pca")
    ch = CorpusHandlers(h)
    assert not hub.is_built("second")
    session = Session(a=Ref.corpus(30), b=Ref.user(0), selection=[Ref.corpus(1)])
    model, header, _msg, session = ch.switch("second", session)
    assert hub.is_built("second") and model["value"] == "tiny @ second"
    assert "12 items" in header and session.a is None and session.b == Ref.user(0) and session.selection == []
    _fig, caption = h.project("tiny @ second", "timbre", *MAP, "instrument", "", [], True, session)
    assert "12 of 12 items" in caption
    sh = SessionHandlers(h)
    assert "corpus=second" in sh.query("tiny @ second", "timbre", *MAP, session)
    out = ch.switch("nowhere", session)
    assert out[2].startswith("**Not done:**")


def test_your_folder_becomes_a_map(hub, tmp_path, monkeypatch):
    from folder_data import make_zip

    monkeypatch.setenv("DISENTANGLE_DATA", str(tmp_path / "data"))
    h = Handlers(hub, "pca")
    ch = CorpusHandlers(h)
    corpus, model, _header, msg, session = ch.open_folder([str(make_zip(tmp_path / "mine.zip"))], "", "tiny",
                                                         Session())
    assert corpus["value"] == "folder mine" and model["value"] == "tiny @ folder mine"
    assert "6 sounds encoded with tiny" in msg and "labelled by sub-folder" in msg
    assert (tmp_path / "data" / "uploads" / "folder mine" / "metadata.csv").is_file()
    _fig, caption = h.project("tiny @ folder mine", "timbre", *MAP, "instrument", "", [], True, session)
    assert "6 of 6 items" in caption
    empty = tmp_path / "empty.zip"
    import zipfile

    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("notes.txt", "no audio here")
    out = ch.open_folder([str(empty)], "", "tiny", Session())
    assert out[3].startswith("**Not done:**") and "no audio" in out[3]
