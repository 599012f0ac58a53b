"""The page's first script (app/early.js): the map when its first fetch fails, and when its library does."""
from __future__ import annotations

import pytest
from test_browser import ARGS, CHROMIUM, serve_app

from disentangle.benchmarks.browser import wait_for_map


@pytest.fixture
def served_app(world, tmp_path):
    yield from serve_app(world, tmp_path)


@pytest.mark.slow
def test_a_failed_first_fetch_is_drawn_by_the_bridge_and_a_missing_library_is_said(served_app):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            # 1. The default map's first request fails (a 503): early.js gives it up, the bridge
            # asks again and draws it into #latent_map.
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            failed = []

            def once(route):
                if not failed:
                    failed.append(route.request.url)
                    route.fulfill(status=503, body="busy")
                else:
                    route.continue_()

            page.route("**/disentangle/map/*", once)
            page.goto(served_app)
            wait_for_map(page, 60000)
            assert failed and page.evaluate(
                "document.querySelector('#latent_map .js-plotly-plot').classList.contains('map-host')"
                " && document.querySelectorAll('.js-plotly-plot.map-host').length === 1")
            page.close()
            # 2. The map's plotly.js does not load: the map's place says so, not an empty box.
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.route("**/disentangle/plotly-gl2d-*.min.js", lambda route: route.abort())
            page.goto(served_app)
            page.wait_for_function("/did not load: reload the page/.test("
                                   "(document.querySelector('#latent_map .map-host') || {}).textContent || '')",
                                   timeout=60000)
            page.close()
        finally:
            browser.close()
