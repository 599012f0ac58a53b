"""Headless Chromium: one sound at a time, neighbours, search, box selection, keyboard (issue 11)."""
from __future__ import annotations

import pytest
from test_browser import (  # noqa: F401  (served_app comes from there too)
    ARGS,
    CHROMIUM,
    REPO,
    served_app,
)

from disentangle.benchmarks.browser import click_plot_point, point_boxes, table_rows_js, wait_for_map

PLOT = "#latent_map .js-plotly-plot"


# For each shown `kind` mark: how far (px) its drawn path's centre is from its anchor point.
MARK_OFFSETS_JS = f"""(kind) => {{
  const gd = document.querySelector('{PLOT}'), fl = gd._fullLayout, xa = fl.xaxis, ya = fl.yaxis;
  const r = gd.getBoundingClientRect(), out = [];
  fl.shapes.forEach((s, k) => {{
    if (!s.name || !s.name.startsWith(kind + ' ') || !s.visible) return;
    const path = gd.querySelector(`.shapelayer path[data-index="${{k}}"]`);
    if (!path) {{ out.push(1e9); return; }}
    const b = path.getBoundingClientRect();
    out.push(Math.hypot(b.left + b.width / 2 - (r.left + xa._offset + xa.l2p(s.xanchor)),
                        b.top + b.height / 2 - (r.top + ya._offset + ya.l2p(s.yanchor))));
  }});
  return out;
}}"""


def shown_marks_js(kind: str) -> str:
    """A JS expression: how many `kind` marks (layout shapes "<kind> <i>") the map draws now."""
    return (f"document.querySelector('{PLOT}')._fullLayout.shapes"
            f".filter(s => s.name && s.name.startsWith('{kind} ') && s.visible).length")


def _click_point(page, index: int) -> None:
    click_plot_point(page, point_boxes(page, 60, 1)[index])


@pytest.mark.browser
@pytest.mark.slow
def test_browsing_tools_in_chromium(served_app):  # noqa: F811
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    out = REPO / "test-artifacts"
    out.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=ARGS + ["--autoplay-policy=no-user-gesture-required"])
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1200})
            page.goto(served_app, wait_until="domcontentloaded", timeout=180000)  # slow on a busy machine
            wait_for_map(page, 180000)
            page.wait_for_timeout(1500)  # let the click bridge attach

            # Neighbours of a click: listed by name and drawn on the map. Gradio renders a
            # tab's content only once the tab is shown, so open the Neighbours tab first.
            page.get_by_role("tab", name="Neighbours").click()
            _click_point(page, 4)
            page.wait_for_selector('#play_audio a[href$=".wav"]', timeout=30000)
            page.wait_for_function(f"{table_rows_js('neighbour_table')}.length >= 8", timeout=30000)
            page.wait_for_function(f"{shown_marks_js('neighbours')} === 8", timeout=15000)
            # each diamond is drawn around its point: its path's centre is the point's pixel
            off = page.evaluate(MARK_OFFSETS_JS, "neighbours")
            assert len(off) == 8 and max(off) < 2.0, off
            assert "_" in page.evaluate(f"{table_rows_js('neighbour_table')}[0].innerText")
            page.screenshot(path=str(out / "app_neighbours.png"), full_page=True)

            # Keyboard: n makes the next neighbour B.
            page.evaluate("window.__mapPlays = 0; document.addEventListener('playing', (e) => {"
                          " if (e.target.closest && e.target.closest('#play_audio')) window.__mapPlays++; }, true)")
            page.mouse.click(5, 5)
            page.keyboard.press("n")
            page.wait_for_function("/B:\\s*\\S*(sine|square|saw)_/.test(document.body.innerText)", timeout=30000)
            # not a map click: the map's player starts it (the page starts it; autoplay is off)
            page.wait_for_function("window.__mapPlays >= 1", timeout=30000)
            # A neighbour's row picked: it becomes B (bridge.js sends the row's reference).
            third = page.evaluate(f"{table_rows_js('neighbour_table')}[2].innerText").split()[1]
            page.locator("#neighbour_table tbody tr").nth(2).click()
            page.wait_for_function(f"/B:\\s*\\S*{third}/.test(document.body.innerText)", timeout=30000)

            # Search: matches ringed on the map and listed.
            page.click("#search_tab-button") if page.query_selector("#search_tab-button") else \
                page.get_by_role("tab", name="Search").click()
            page.fill("#search_query textarea, #search_query input", "saw ff")
            page.keyboard.press("Enter")
            page.wait_for_function(f"{shown_marks_js('search hits')} === 4", timeout=30000)
            page.wait_for_function(f"{table_rows_js('hit_table')}.length === 4", timeout=15000)
            page.screenshot(path=str(out / "app_search.png"), full_page=True)

            # Box selection over the whole plot area.
            page.evaluate(f"window.__disentanglePlotly.relayout(document.querySelector('{PLOT}'), {{dragmode: 'select'}})")
            area = page.query_selector(f"{PLOT} .nsewdrag").bounding_box()
            page.mouse.move(area["x"] + 3, area["y"] + 3)
            page.mouse.down()
            page.mouse.move(area["x"] + area["width"] - 3, area["y"] + area["height"] - 3, steps=8)
            page.mouse.up()
            page.get_by_role("tab", name="Selection").click()
            page.wait_for_function("/\\d+ selected/.test(document.querySelector('#selection_summary').innerText)",
                                   timeout=30000)
            page.screenshot(path=str(out / "app_selection.png"), full_page=True)

            # One sound at a time: a sweep's players and the map's player never play together.
            # Waited on as events (a start stamped after the click; the peak count at each start),
            # not by polling the live count, which the selection's still-sounding player could
            # satisfy. The sweep's waveform player starts in a shadow root: before bridge.js
            # listened there, it was neither stamped nor counted until WaveSurfer's play() (CI
            # timed out waiting for it on 2026-12-02).
            page.get_by_role("tab", name="Sweep").click()
            before = page.evaluate("window.__disentanglePlayingPeak = 0; window.__disentangleLastPlay || 0")
            page.get_by_role("button", name="Sweep A").click()
            page.wait_for_function(f"(window.__disentangleLastPlay || 0) > {before}", timeout=60000)
            page.wait_for_timeout(400)
            assert page.evaluate("window.__disentanglePlayingPeak") == 1
            page.screenshot(path=str(out / "app_sweep.png"), full_page=True)
        finally:
            browser.close()
