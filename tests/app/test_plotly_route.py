"""The map's own plotly.js: vendored, served for good caching, asked for by the page's head."""
from __future__ import annotations

import hashlib
import re

import plotly_route
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from plotly_route import BUNDLE, HEAD, PATH, VERSION, install

README = BUNDLE.parent / "README.md"


def test_the_vendored_bundle_is_the_one_its_readme_names():
    data = BUNDLE.read_bytes()
    assert f"plotly.js (gl2d - minified) v{VERSION}".encode() in data[:200]
    digest = re.search(r"sha256 `([0-9a-f]{64})`", README.read_text()).group(1)
    assert hashlib.sha256(data).hexdigest() == digest
    assert (BUNDLE.parent / "LICENSE-plotly.js").read_text().startswith("MIT License")


def test_route_serves_the_bundle_as_javascript_cached_for_good():
    app = FastAPI()
    install(app)
    r = TestClient(app).get(PATH)
    assert r.status_code == 200 and r.content == BUNDLE.read_bytes()
    assert r.headers["content-type"].startswith("text/javascript")
    assert "immutable" in r.headers["cache-control"] and VERSION in PATH  # a new version, a new path


def test_head_asks_for_the_bundle_by_a_relative_path_and_the_default_map_once():
    assert f"script.src = '{PATH[1:]}'" in HEAD  # relative: the page may sit under a prefix
    assert "__BUNDLE_URL__" not in HEAD and HEAD.startswith("<script>") and HEAD.endswith("</script>")
    assert "elem_id === 'map_json'" in HEAD and "/disentangle/map/" in HEAD


def test_a_missing_bundle_is_named_at_install(monkeypatch, tmp_path):
    monkeypatch.setattr(plotly_route, "BUNDLE", tmp_path / "gone.js")
    with pytest.raises(FileNotFoundError, match="gone.js is missing: the map cannot be drawn"):
        install(FastAPI())


def test_early_head_writes_the_script_into_the_page_only():
    from fastapi.responses import HTMLResponse, PlainTextResponse
    from plotly_route import app_kwargs

    app = FastAPI(**app_kwargs())
    app.add_api_route("/", lambda: HTMLResponse("<html><head><title>t</title></head><body></body></html>"))
    app.add_api_route("/other", lambda: HTMLResponse("<html><head></head></html>"))
    app.add_api_route("/text", lambda: PlainTextResponse("</head>"))
    client = TestClient(app)
    page = client.get("/?model=gmvae")  # the shared-view query keeps the page the page
    assert page.status_code == 200 and page.text.count("window.__disentangleEarly") >= 1
    assert page.text.index("window.__disentangleEarly") < page.text.index("</head>") < page.text.index("<body>")
    assert int(page.headers["content-length"]) == len(page.content)
    assert "__disentangleEarly" not in client.get("/other").text and client.get("/text").text == "</head>"


def test_the_served_page_starts_the_map_with_its_first_bytes(explorer):
    """On the app itself: the script sits in the HTML Gradio serves (through its compression)."""
    import urllib.request

    from serving import served_demo

    with served_demo(explorer) as (_demo, url):
        html = urllib.request.urlopen(url, timeout=30).read().decode()
        assert html.index(f"script.src = '{PATH[1:]}'") < html.index("</head>")
        js = urllib.request.urlopen(url + PATH[1:], timeout=30).read()
        assert js == BUNDLE.read_bytes()
