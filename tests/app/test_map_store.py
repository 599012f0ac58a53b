"""GET /disentangle/map/<key>: maps served by content key, bounded, hostile keys refused."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from map_store import PATH, MapStore, install


def test_put_gives_a_content_key_and_get_returns_the_json():
    store = MapStore()
    a = store.put('{"data": [1]}')
    assert a.startswith(PATH) and len(a) == len(PATH) + 24
    assert store.put('{"data": [1]}') == a and len(store) == 1  # the same map, the same key
    assert store.put('{"data": [2]}') != a
    assert json.loads(store.get(a)) == {"data": [1]}
    assert store.get(a.removeprefix(PATH)) == store.get(a)
    assert store.get(PATH + "0" * 24) is None


def test_the_oldest_maps_go_past_the_byte_budget_and_a_reused_one_stays():
    store = MapStore(max_bytes=100)
    first = store.put("a" * 40)
    second = store.put("b" * 40)
    store.put("a" * 40)  # used again: now the newest
    store.put("c" * 40)
    assert store.get(first) is not None and store.get(second) is None and len(store) == 2
    huge = store.put("d" * 500)  # larger than the budget: kept alone, not refused
    assert store.get(huge) is not None and len(store) == 1


def test_route_serves_cacheable_json_and_refuses_bad_or_unknown_keys():
    store, app = MapStore(), FastAPI()
    install(app, store)
    client = TestClient(app)
    path = store.put('{"layout": {"meta": {"model": "m"}}}')
    r = client.get(path)
    assert r.status_code == 200 and r.json()["layout"]["meta"] == {"model": "m"}
    assert r.headers["content-type"].startswith("application/json") and "immutable" in r.headers["cache-control"]
    missing = client.get(PATH + "f" * 24)
    assert missing.status_code == 404 and "Update map" in missing.text
    for bad in ("XYZ", "0" * 23, "0" * 25, "..%2F..%2Fetc", "G" * 24):
        r = client.get(PATH + bad)
        assert r.status_code in (400, 404) and len(r.text.splitlines()) <= 1, bad
        assert "Traceback" not in r.text


@pytest.mark.usefixtures("explorer")
def test_the_page_draws_the_served_map(explorer):
    """The app's own handler puts the map; the served demo answers its path."""
    from serving import served_demo
    from ui_handlers import Handlers

    from disentangle.explore.session import Session

    path, _ = Handlers(explorer, "pca").project("tiny", "timbre", "PCA", 15, 0.1, 30, 1, 2, "instrument", "", [],
                                                True, Session())
    with served_demo(explorer) as (_demo, url):
        fig = json.loads(urllib.request.urlopen(url.rstrip("/") + path, timeout=30).read())
        assert fig["data"][0]["name"] == "corpus" and fig["data"][0]["type"] == "scattergl"
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(url.rstrip("/") + PATH + "e" * 24, timeout=30)
        assert err.value.code == 404


def test_memo_names_a_map_by_its_inputs_and_misses_once_the_store_dropped_it():
    from map_store import MapMemo

    class Owner:  # an explorer stands here: any object a weak reference can hold
        pass

    store = MapStore(max_bytes=100)
    memo, owner = MapMemo(store, size=2), Owner()
    path = store.put("a" * 40)
    memo.put(owner, ("timbre",), path, "caption")
    assert memo.get(owner, ("timbre",)) == (path, "caption") and memo.get(Owner(), ("timbre",)) is None
    store.put("b" * 40)
    store.put("c" * 40)  # the first map's JSON is dropped: the memo must not name it
    assert memo.get(owner, ("timbre",)) is None
    for n in range(3):
        memo.put(owner, (n,), store.put(str(n)), "")
    assert memo.get(owner, (0,)) is None and memo.get(owner, (2,)) is not None  # at most `size` kept


def test_a_map_seen_before_is_not_built_again_and_a_new_mark_rebuilds_it(explorer, monkeypatch):
    import ui_handlers
    from map_store import STORE, MapMemo

    from disentangle.explore.refs import Ref
    from disentangle.explore.session import Session

    monkeypatch.setattr(ui_handlers, "MAP_MEMO", MapMemo(STORE))  # not the maps earlier tests made
    built = []
    real = ui_handlers.map_figure
    monkeypatch.setattr(ui_handlers, "map_figure", lambda *a, **k: built.append(a[2]) or real(*a, **k))
    h = ui_handlers.Handlers(explorer, "pca")
    s = Session()

    def project(space="timbre", colour="instrument"):
        return h.project("tiny", space, "PCA", 15, 0.1, 30, 1, 2, colour, "", [], True, s)

    first = project()
    assert project() == first and project("pitch") != first and project() == first
    assert built == ["timbre", "pitch"]
    s.a = Ref.corpus(5)  # A ringed: another map
    ringed = project()
    assert ringed != first and len(built) == 3
    assert project(colour="dynamics")[0] != ringed[0] and len(built) == 4
