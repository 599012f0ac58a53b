"""App handlers and named endpoints on a tiny checkpoint (no browser)."""
from __future__ import annotations

import base64
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from disentangle.explore.refs import Ref
from disentangle.explore.session import Session


@pytest.fixture(scope="module")
def handlers(explorer):
    from ui_handlers import Handlers

    return Handlers(explorer, "pca")


def test_render_point_outputs_int16_and_selects(handlers):
    s = Session()
    play, original, recon, image, md, s = handlers.render_point("tiny", "c:5|1700000000", "A", "reconstruction", s)
    assert play[0] == 8000 and play[1].dtype == np.int16 and np.array_equal(play[1], recon[1])
    assert original[1].dtype == np.int16 and image is not None
    assert s.a == Ref.corpus(5) and "sine_55_ff" in md and "G3" in md  # a note name, not MIDI 55
    _, _, _, _, md, s = handlers.render_point("tiny", "c:30", "B", "original, then reconstruction", s)
    assert s.b == Ref.corpus(30) and s.a == Ref.corpus(5)
    assert "sine_55_ff reconstruction" in s.renders and "saw_60_pp original" in s.renders
    with pytest.warns(UserWarning, match="not a point reference"):
        out = handlers.render_point("tiny", "<script>", "A", "reconstruction", s)
    assert "not a point reference" in out[4] and all(isinstance(o, dict) for o in out[:4])  # outputs kept
    with pytest.warns(UserWarning, match="model must be one of .tiny.; got .nope.$"):
        handlers.render_point("nope", "c:1", "A", "reconstruction", s)


def test_strip_handlers_and_step_audio(handlers):
    s = Session()
    with pytest.warns(UserWarning, match="select a point"):
        handlers.sweep("tiny", "timbre", 0, -1, 1, 5, "value", s)
    s.a, s.b = Ref.corpus(1), Ref.corpus(20)
    _figure, steps, joined, first, _info, s = handlers.sweep("tiny", "timbre", 2, -1, 1, 9, "value", s)
    assert len(steps["choices"]) == 9 and joined[1].dtype == np.int16 and len(s.steps["sweep"]) == 9
    assert first is None  # only the all-steps player starts
    picked = handlers.play_step("sweep")(s, steps["choices"][3])
    assert picked[1].dtype == np.int16
    out = handlers.sample("tiny", 0.5, 3, 0, s, "1", "any (whole prior)", "any (whole prior)")
    assert len(out[1]["choices"]) == 3 and "square" in out[4]
    wav = handlers.export_wav("sweep timbre2 of sine_48_mf (all steps)", s)
    assert wav.endswith("sweep_timbre2_of_sine_48_mf__all_steps.wav")  # named after source and action
    with pytest.warns(UserWarning):
        handlers.export_wav("never rendered", s)
    with pytest.warns(UserWarning, match="different"):
        handlers.grid("tiny", "timbre", 1, 1, -1, 1, 3, s)


@pytest.mark.slow
def test_sessions_do_not_mix_through_the_api(explorer, tmp_path):
    """Two gradio_client sessions against a served demo keep their own A/B."""
    from gradio_client import Client
    from serving import served_demo

    with served_demo(explorer) as (_demo, url):
        one, two = Client(url, verbose=False), Client(url, verbose=False)
        api = one.view_api(print_info=False, return_format="dict")["named_endpoints"]
        for name in ("/project", "/render_point", "/sweep", "/interpolate", "/swap", "/sample", "/encode_audio"):
            assert name in api
        md1 = one.predict("tiny", "c:3", "A", "reconstruction", api_name="/render_point")[4]
        md2 = two.predict("tiny", "c:33", "A", "reconstruction", api_name="/render_point")[4]
        assert "sine_55_pp" in md1 and "saw_67_pp" in md2
        sweep_info = one.predict("tiny", "pitch", 0, -1, 1, 3, "value", api_name="/sweep")[4]
        assert "sine_55_pp" in sweep_info  # session one still has its own A
        corpus_wav = str(explorer.corpus.root / "audio/square_55_mf.wav")
        from gradio_client import handle_file
        msg = two.predict(handle_file(corpus_wav), "mine", "B", "tiny", api_name="/encode_audio")[0]
        assert "mine" in msg and "selected as B" in msg
        def map_of(client) -> str:  # /project answers the path its map's JSON is served at
            path = client.predict("tiny", "timbre", "PCA", 15, 0.1, 30, 1, 2, "instrument", "", [], True,
                                  api_name="/project")[0]
            assert path.startswith("/disentangle/map/")
            return urllib.request.urlopen(url.rstrip("/") + path, timeout=30).read().decode()

        assert "your sounds" in map_of(two) and "your sounds" not in map_of(one)


def test_negative_thread_count_is_refused(capsys):
    from main import main
    with pytest.raises(SystemExit) as exc:
        main(["--threads", "-1"])
    assert exc.value.code == 2
    assert "--threads must be 0 or more, got -1" in capsys.readouterr().err


def test_the_page_carries_the_default_map_when_it_is_fitted(explorer, handlers, monkeypatch):
    """Issue 14 (map drawn): the default view's map comes with the page, drawn once the plot is."""
    import json

    from layout import build_demo, first_map
    from map_store import STORE

    drawn = json.loads(STORE.get(first_map(handlers, "tiny", "timbre", "PCA", "instrument")))
    assert drawn["data"][0]["name"] == "corpus" and "tiny / timbre" in drawn["layout"]["title"]["text"]
    with monkeypatch.context() as m:  # not fitted: no fit at startup, the view's request fits it
        m.setattr(type(explorer), "has_projection", lambda *a: False)
        assert first_map(handlers, "tiny", "timbre", "PCA", "instrument") == ""
    config = build_demo(explorer, "pca").get_config_file()
    box = next(c for c in config["components"] if c.get("props", {}).get("elem_id") == "map_json")
    meta = json.loads(STORE.get(box["props"]["value"]))["layout"]["meta"]
    assert (meta["model"], meta["space"]) == ("tiny", "timbre")
    # the corpus trace's hover texts are served apart, in the trace's order (the page puts them back)
    texts = json.loads(STORE.get(meta["texts"]))
    rows = np.frombuffer(base64.b64decode(drawn["data"][0]["customdata"]["bdata"]), dtype=np.int32)
    assert drawn["data"][0].get("hovertext") is None and len(texts) == len(rows) == 36
    for text, row in zip(texts, rows):
        assert text.startswith(f"<b>{Path(explorer.corpus.items[row].path).stem}</b>")
