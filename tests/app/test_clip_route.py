"""GET /disentangle/clip: a corpus point's sound straight to the page (issue 11: click -> audio)."""
from __future__ import annotations

import io
import urllib.error
import urllib.request
from urllib.parse import urlencode

import numpy as np
import pytest
import soundfile as sf

from disentangle.explore.refs import Ref
from disentangle.explore.session import Session


@pytest.fixture(scope="module")
def handlers(explorer):
    from ui_handlers import Handlers

    return Handlers(explorer, "pca")


def _read(data: bytes) -> tuple[np.ndarray, int]:
    audio, rate = sf.read(io.BytesIO(data), dtype="int16")
    return audio, rate


def test_clip_is_what_the_click_plays(handlers):
    from clip_route import clip_wav

    for play in ("reconstruction", "original", "original, then reconstruction"):
        audio, rate = _read(clip_wav(handlers, "tiny", "c:5", play))
        played = handlers.render_point("tiny", "c:5", "A", play, Session())[0]
        assert rate == played[0] == 8000 and np.array_equal(audio, played[1]), play


def test_a_mixture_mean_plays_what_its_click_plays(handlers):
    """A click on a mixture mean took the Gradio way (580-700 ms): now it is served here too."""
    from clip_route import clip_wav

    for play in ("reconstruction", "original"):  # a mean has no original: its decoded sound either way
        audio, rate = _read(clip_wav(handlers, "tiny", "k:timbre:1", play))
        played = handlers.render_point("tiny", "k:timbre:1", "A", play, Session())[0]
        assert rate == played[0] == 8000 and len(audio) > 1000 and np.array_equal(audio, played[1]), play


def test_clip_refuses_what_it_does_not_serve(handlers):
    from clip_route import clip_wav

    cases = {("nope", "c:5", "original"): "model", ("tiny", "u:0", "original"): "only corpus points",
             ("tiny", "c:999999", "original"): "999999", ("tiny", "<script>", "original"): "point reference",
             ("tiny", "c:5", "loud"): "on click, play"}
    for (model, ref, play), words in cases.items():
        with pytest.raises(ValueError, match=words):
            clip_wav(handlers, model, ref, play)


def test_clip_route_over_http(explorer):
    import clip_route
    from serving import served_demo
    from ui_handlers import Handlers

    with served_demo(explorer) as (demo, url):
        clip_route.install(demo.app, Handlers(explorer, "pca"))
        base = url.rstrip("/") + clip_route.PATH + "?"
        with urllib.request.urlopen(base + urlencode({"model": "tiny", "ref": "c:7"})) as r:
            assert r.status == 200 and r.headers["Content-Type"] == "audio/wav"
            audio, rate = _read(r.read())
        assert rate == 8000 and len(audio) > 1000
        # the render is kept: the Gradio call of the same click does not decode it again
        assert explorer.entry("tiny")._renders.get((str(Ref.corpus(7)),)) is not None
        with pytest.raises(urllib.error.HTTPError) as bad:
            urllib.request.urlopen(base + urlencode({"model": "tiny", "ref": "c:1e9"}))
        message = bad.value.read().decode()
        assert bad.value.code == 400 and "Traceback" not in message and len(message) < 300, message


def test_clip_route_says_busy_when_full(explorer, monkeypatch):
    import clip_route
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from ui_handlers import Handlers

    monkeypatch.setattr(clip_route, "MAX_AT_ONCE", 0)  # every slot taken
    app = FastAPI()
    clip_route.install(app, Handlers(explorer, "pca"))
    r = TestClient(app).get(clip_route.PATH, params={"model": "tiny", "ref": "c:7"})
    assert r.status_code == 429 and "busy" in r.text


@pytest.mark.parametrize("model, ref, play", [
    ("", "", ""), ("tiny", "c:-1", "original"), ("tiny", "c:" + "9" * 5000, "original"), ("x" * 10**5, "c:1", "original"),
    ("tiny", "k:timbre:99999", "original"), ("tiny", "c:1\x00", "original"), ("tiny", "c:nan", "original"),
    ("tiny", "c:1", "original" * 1000), ("../../etc/passwd", "c:1", "original")])
def test_hostile_clip_requests_get_one_clear_line(handlers, model, ref, play):
    from clip_route import clip_wav
    from errors import user_message

    with pytest.raises(ValueError) as refused:
        clip_wav(handlers, model, ref, play)
    message = user_message(refused.value)
    assert message is not None and 0 < len(message) <= 300, (message, refused.value)
