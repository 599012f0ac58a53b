"""GET /disentangle/neighbours: a corpus point's neighbours for the page (issue 11: click -> neighbours)."""
from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from disentangle.explore.refs import Ref
from disentangle.explore.session import Session

MAP = ("PCA", 15, 0.1, 30, 1, 2)


@pytest.fixture(scope="module")
def handlers(explorer):
    from ui_handlers import Handlers

    return Handlers(explorer, "pca")


@pytest.mark.parametrize("which", ["map space", "pitch", "all spaces"])
def test_the_page_gets_the_table_the_session_would_list(handlers, which):
    from browse_handlers import BrowseHandlers
    from neighbours_route import neighbours_answer

    answer = neighbours_answer(handlers, "tiny", "timbre", which, "5", "c:4")
    s = Session(a=Ref.corpus(4))
    table, _marks, s = BrowseHandlers(handlers).neighbours("tiny", "timbre", which, 5, *MAP, s)
    assert answer["html"] == table and answer["refs"] == [str(r) for r in s.neighbours]
    assert answer["key"] == s.neighbours_of and len(answer["refs"]) == 5 and "c:4" not in answer["refs"]


def test_a_mixture_mean_gets_the_table_the_session_would_list(handlers):
    from browse_handlers import BrowseHandlers
    from neighbours_route import neighbours_answer

    answer = neighbours_answer(handlers, "tiny", "timbre", "map space", "4", "k:timbre:1")
    s = Session(a=Ref.component("timbre", 1))
    table, _marks, s = BrowseHandlers(handlers).neighbours("tiny", "timbre", "map space", 4, *MAP, s)
    assert answer["html"] == table and answer["refs"] == [str(r) for r in s.neighbours]
    assert answer["key"] == s.neighbours_of and len(answer["refs"]) == 4


@pytest.mark.parametrize("args, words", [
    (("nope", "timbre", "map space", "5", "c:4"), "model"),
    (("tiny", "colour", "map space", "5", "c:4"), "latent space"),
    (("tiny", "timbre", "everything", "5", "c:4"), "nearest to A in"),
    (("tiny", "timbre", "map space", "0", "c:4"), "how many"),
    (("tiny", "timbre", "map space", "1e9", "c:4"), "how many"),
    (("tiny", "timbre", "map space", "5", "u:0"), "only corpus points"),
    (("tiny", "timbre", "map space", "5", "c:999999"), "999999"),
    (("tiny", "timbre", "map space", "5", "k:timbre:99999"), "99999"),
    (("tiny", "timbre", "map space", "5", "<script>"), "point reference"),
])
def test_bad_requests_name_the_problem(handlers, args, words):
    from errors import user_message
    from neighbours_route import neighbours_answer

    with pytest.raises(ValueError, match=words) as refused:
        neighbours_answer(handlers, *args)
    message = user_message(refused.value)
    assert message and "\n" not in message and "Traceback" not in message


def test_route_over_http_answers_json_400_and_429(explorer, handlers, monkeypatch):
    import neighbours_route

    app = FastAPI()
    neighbours_route.install(app, handlers)
    client = TestClient(app)
    ok = client.get(neighbours_route.PATH, params={"model": "tiny", "space": "timbre", "k": "3", "ref": "c:9"})
    assert ok.status_code == 200 and len(ok.json()["refs"]) == 3 and "<table" in ok.json()["html"]
    bad = client.get(neighbours_route.PATH, params={"model": "tiny", "space": "timbre", "ref": "c:-1"})
    assert bad.status_code == 400 and len(bad.text) < 300 and "Traceback" not in bad.text
    monkeypatch.setattr(neighbours_route, "MAX_AT_ONCE", 0)  # every slot taken
    busy = FastAPI()
    neighbours_route.install(busy, handlers)
    assert TestClient(busy).get(neighbours_route.PATH, params={"model": "tiny", "ref": "c:9"}).status_code == 429
