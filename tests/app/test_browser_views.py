"""Headless Chromium: sessions saved and loaded, links that open a view, corpus switching and
your folder as a map (issue 11). Screenshots go to test-artifacts/."""
from __future__ import annotations

import json
import urllib.request
import zipfile

import pytest
from test_browser import ARGS, CHROMIUM, REPO, serve_app, served_app  # noqa: F401  (a fixture)

from disentangle.benchmarks.browser import choose_option, click_plot_point, point_boxes, ring, wait_for_map

PLOT = "#latent_map .js-plotly-plot"
TITLE = f"(document.querySelector('{PLOT}') || {{}}).layout && document.querySelector('{PLOT}').layout.title.text"


@pytest.fixture
def served_two(world, tmp_path):
    """The app on the tiny corpus, with a second corpus ("notes", 12 items) under its data root."""
    import tiny_world

    second = tiny_world.make_corpus(tmp_path / "data" / "notes")
    second.items = [i for i in second.items if i.dynamics == "ff"]
    from disentangle.data.schema import write_metadata

    write_metadata(second.root / "metadata.csv", second.items)
    yield from serve_app(world, tmp_path)


def _open(browser, url):
    page = browser.new_page(viewport={"width": 1500, "height": 1300})
    page.goto(url, wait_until="domcontentloaded", timeout=180000)
    wait_for_map(page, 180000)
    page.wait_for_timeout(1500)  # let the click bridge attach
    return page


def _wait_title(page, words: str, timeout=120000) -> None:
    page.wait_for_function(f"(() => {{ const t = {TITLE}; return t && t.includes({json.dumps(words)}); }})()",
                           timeout=timeout)


# How many corpus points the map draws (WebGL: no element per point).
N_POINTS = f"(document.querySelector('{PLOT}')._fullData || []).filter(t => t.name === 'corpus')" \
           ".reduce((n, t) => n + (t._length || 0), 0)"


def _n_points(page) -> int:
    return page.evaluate(N_POINTS)


# Where corpus rows sit on the map (data coordinates): {row: [x, y]} for the given rows.
ROWS_XY = f"""(rows) => {{
  const t = document.querySelector('{PLOT}')._fullData[0], out = {{}};
  for (let i = 0; i < t.x.length; i++) {{
    const row = Number(t.customdata[i]);
    if (rows.includes(row)) out[row] = [t.x[i], t.y[i]];
  }}
  return out;
}}"""
# The selection's rings (the "selection" trace): [[x, y], ...].
SELECTION_XY = (f"(() => {{ const t = document.querySelector('{PLOT}')._fullData.find(t => t.name === 'selection');"
                " return t ? Array.from(t.x).map((x, i) => [x, t.y[i]]) : []; })()")


def _assert_highlighted(page, a_row: int, selection: list[int]) -> None:
    """The map rings A at corpus row `a_row` (where it is drawn too) and the selected rows."""
    at = ring(page, "A")
    assert at is not None and at["label"]["text"] == "A", at
    xy = page.evaluate(ROWS_XY, [a_row, *selection])
    assert (at["x"], at["y"]) == pytest.approx(tuple(xy[str(a_row)]), abs=1e-6), (at, xy)
    assert at["drawn"] and abs(at["drawn"]["left"] - at["left"]) < 1.5 and abs(at["drawn"]["top"] - at["top"]) < 1.5
    rings = sorted(map(tuple, page.evaluate(SELECTION_XY)))
    wanted = sorted(tuple(xy[str(r)]) for r in selection)
    assert [v for p in rings for v in p] == pytest.approx([v for p in wanted for v in p], abs=1e-6), (rings, xy)


def _tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


@pytest.mark.browser
@pytest.mark.slow
def test_save_load_and_link_give_the_same_view(served_app, tmp_path):  # noqa: F811
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    out = REPO / "test-artifacts"
    out.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = _open(browser, served_app)
            # A view: A clicked, the pitch space, two points box-selected by the bridge.
            click_plot_point(page, point_boxes(page, 60, 1)[4])
            page.wait_for_function("/A:\\s*\\S*(sine|square|saw)_/.test(document.body.innerText)", timeout=60000)
            choose_option(page, "space_select", "pitch")
            _wait_title(page, "/ pitch (")
            _tab(page, "Selection")  # a tab's content is rendered once it is shown
            page.evaluate("window.__disentangleSend('selection_box', 'c:1,c:2,c:5|' + Date.now())")
            page.wait_for_function("/3 selected/.test(document.querySelector('#selection_summary').innerText)",
                                   timeout=60000)
            # The address bar follows: model, space, projection and selection.
            page.wait_for_function("location.search.includes('space=pitch') && location.search.includes('sel=1.2.5')",
                                   timeout=60000)
            link = page.url
            assert "model=tiny" in link and "projection=method%3Dpca" in link and "a=c%3A" in link

            # Save the session: a JSON file to download.
            _tab(page, "Session")
            page.click("#save_session")
            href = page.wait_for_selector('#session_file a[href$=".json"]', timeout=60000).get_attribute("href")
            saved = json.loads(urllib.request.urlopen(served_app.rstrip("/") + href
                                                      if href.startswith("/") else href, timeout=30).read())
            assert saved["format"] == "disentangle-session" and saved["space"] == "pitch"
            assert saved["selection"] == ["c:1", "c:2", "c:5"] and saved["a"].startswith("c:")
            page.screenshot(path=str(out / "app_session_saved.png"), full_page=True)
            a_text = page.evaluate("document.body.innerText.match(/A:\\s*\\S+/)[0]")

            # The link opens the same view in a new tab, A and the selection ringed on the map.
            a_row = int(link.split("a=c%3A")[1].split("&")[0])
            shared = _open(browser, link)
            _wait_title(shared, "/ pitch (")
            _assert_highlighted(shared, a_row, [1, 2, 5])
            _tab(shared, "Selection")
            shared.wait_for_function("/3 selected/.test(document.querySelector('#selection_summary').innerText)",
                                     timeout=60000)
            assert a_text in shared.evaluate("document.body.innerText")
            shared.screenshot(path=str(out / "app_link_opened.png"), full_page=True)
            shared.close()

            # Loading the file in a fresh tab (no parameters) shows the same view.
            (tmp_path / "view.json").write_text(json.dumps(saved))
            fresh = _open(browser, served_app)
            _wait_title(fresh, "/ timbre (")
            _tab(fresh, "Session")
            fresh.set_input_files("#load_session input[type=file]", str(tmp_path / "view.json"))
            fresh.wait_for_function("/Session loaded/.test(document.querySelector('#session_msg').innerText)",
                                    timeout=60000)
            _wait_title(fresh, "/ pitch (")
            _assert_highlighted(fresh, a_row, [1, 2, 5])
            _tab(fresh, "Selection")
            fresh.wait_for_function("/3 selected/.test(document.querySelector('#selection_summary').innerText)",
                                    timeout=60000)
            assert a_text in fresh.evaluate("document.body.innerText")
            fresh.screenshot(path=str(out / "app_session_loaded.png"), full_page=True)

            # A hostile file: one message, the view stays.
            (tmp_path / "bad.json").write_text('{"format": "disentangle-session", "version": 1, "model": "tiny",'
                                               ' "space": "pitch", "a": "c:999", "projection": {"method": "pca"}}')
            fresh.set_input_files("#load_session input[type=file]", str(tmp_path / "bad.json"))
            fresh.wait_for_function("/outside the corpus/.test(document.querySelector('#session_msg').innerText)",
                                    timeout=60000)
            _wait_title(fresh, "/ pitch (")
        finally:
            browser.close()


@pytest.mark.browser
@pytest.mark.slow
def test_switch_corpus_and_map_your_folder(served_two, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install -y chromium)")
    from folder_data import make_zip
    from playwright.sync_api import sync_playwright

    out = REPO / "test-artifacts"
    out.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = _open(browser, served_two)
            assert _n_points(page) == 36
            # Another corpus, built on this first switch.
            choose_option(page, "corpus_select", "notes (built on first use)")
            page.wait_for_function(f"{N_POINTS} === 12", timeout=180000)
            assert "12 items" in page.inner_text("body")
            page.screenshot(path=str(out / "app_corpus_switched.png"), full_page=True)

            # Your folder: a zip of sine and noise WAVs in two sub-folders becomes a map of 6 points.
            zipped = make_zip(tmp_path / "my sounds.zip")
            assert zipfile.is_zipfile(zipped)
            _tab(page, "Your folder")
            page.set_input_files("#folder_files input[type=file]", str(zipped))
            page.wait_for_timeout(1500)
            page.click("#folder_button")
            page.wait_for_function("/6 sounds encoded/.test(document.querySelector('#folder_msg').innerText)",
                                   timeout=180000)
            # The message comes before the new map: wait for the map of the folder, labelled by sub-folder.
            # (the class legend is drawn under the plot, early.js drawLegend)
            page.wait_for_function("(() => { const names = [...document.querySelectorAll("
                                   "'#latent_map .map-legend-item')].map(e => e.textContent);"
                                   " return names.includes('noise') && names.includes('sine'); })()",
                                   timeout=180000)
            click_plot_point(page, point_boxes(page, 60, 1)[0])
            page.wait_for_function("/A:\\s*\\S*(sine|noise)_\\d/.test(document.body.innerText)", timeout=60000)
            page.screenshot(path=str(out / "app_your_folder.png"), full_page=True)
        finally:
            browser.close()
