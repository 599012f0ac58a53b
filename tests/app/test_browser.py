"""A real headless Chromium clicks a point on the map and gets audio + spectrogram."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from disentangle.benchmarks.browser import click_plot_point, point_boxes, ring, wait_for_map

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic"]
# Watches the map from the test's own plotly_click listener, which runs right after the
# bridge's: whether the click recomputed the traces (calcdata replaced) or restyled one.
WATCH_CLICK = """() => {
  const gd = document.querySelector('#latent_map .js-plotly-plot');
  const watch = window.__watch = {restyles: 0, calcdata: gd.calcdata};
  gd.on('plotly_restyle', () => { watch.restyles++; });
  gd.on('plotly_click', () => {
    watch.atClick = {recomputed: gd.calcdata !== watch.calcdata, restyles: watch.restyles};
  });
}"""
LAUNCHER = """
import runpy, sys
sys.path.insert(0, {explore!r})
import tiny_world  # registers the tiny model class before the checkpoint loads
sys.argv = ["app/main.py"] + {argv!r}
runpy.run_path({main!r}, run_name="__main__")
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served_app(world, tmp_path):
    yield from serve_app(world, tmp_path)


def serve_app(world, tmp_path, launcher: str = LAUNCHER, start_timeout: float = 300):
    """Start app/main.py on the tiny world; yields its URL. The data root is a folder of the
    test's own (`tmp_path/data`), so the app offers only the corpora a test puts there.
    `launcher` is the Python prelude run before the app (a format string like LAUNCHER)."""
    corpus, ckpt = world
    port = _free_port()
    argv = ["--checkpoint", str(ckpt), "--data", str(corpus.root), "--host", "127.0.0.1",
            "--port", str(port), "--projection", "pca", "--no-precompute", "--gl-iters", "8"]
    code = launcher.format(explore=str(REPO / "tests" / "explore"), argv=argv, main=str(REPO / "app" / "main.py"))
    (tmp_path / "data").mkdir(exist_ok=True)
    with open(tmp_path / "app.log", "w") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
                                env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False",
                                     "DISENTANGLE_DATA": str(tmp_path / "data")})
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + start_timeout  # a busy 2-core machine takes minutes
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the app exited: {(tmp_path / 'app.log').read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"the app did not start: {(tmp_path / 'app.log').read_text()[-2000:]}")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _rgb(hex_colour: str) -> list[int]:
    """"#rrggbb" -> [r, g, b] in 0-255."""
    return [int(hex_colour[k:k + 2], 16) for k in (1, 3, 5)]


@pytest.mark.browser
@pytest.mark.slow
def test_click_point_plays_audio_and_shows_spectrogram(served_app):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    out = REPO / "test-artifacts"
    out.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.goto(served_app)
            wait_for_map(page, 60000)
            # drawn by the map's own plotly.js (the gl2d bundle the head loads, plotly_route.py)
            # into the .map-host, not by a gr.Plot
            assert page.evaluate("[window.__disentanglePlotly && window.__disentanglePlotly.version,"
                                 " document.querySelector('#latent_map .js-plotly-plot').classList"
                                 ".contains('map-host')]") == ["3.7.0", True]
            # the class colours went in as the palette's colours, point by point as the server's
            # stepped scale gives them (early.js flatColours): RGBA for the points, the
            # palette's strings for the hover labels
            sent, drawn, labels = page.evaluate("""async () => {
              const path = document.querySelector('#map_json textarea, #map_json input').value;
              const m = (await fetch(path.slice(1)).then(r => r.json())).data[0].marker;
              const bytes = atob(m.color.bdata);
              const t = document.querySelector('#latent_map .js-plotly-plot')._fullData[0];
              return [Array.from(bytes, c => m.colorscale[c.charCodeAt(0)][1]),
                      Array.from(t.marker.color, c => Array.from(c)), Array.from(t.hoverlabel.bgcolor)];
            }""")
            assert len(set(sent)) > 1 and labels == sent
            assert drawn == [[c / 255 for c in _rgb(h)] + [1] for h in sent]
            # The classes' point-less legend traces became a plain legend under the plot
            # (early.js drawLegend), and the plot keeps no trace of them.
            named, legend, traces = page.evaluate("""async () => {
              const path = document.querySelector('#map_json textarea, #map_json input').value;
              const fig = await fetch(path.slice(1)).then(r => r.json());
              const gd = document.querySelector('#latent_map .js-plotly-plot');
              return [fig.data.filter(t => t.x && t.x.length === 1 && t.x[0] === null).map(t => [t.name, t.marker.color]),
                      [...document.querySelectorAll('#latent_map .map-legend-item')].map(e => [e.textContent,
                        getComputedStyle(e.querySelector('i')).backgroundColor]),
                      gd._fullData.map(t => t.name)];
            }""")
            assert len(named) > 1 and [n for n, _ in legend] == [n for n, _ in named]
            assert [c for _, c in legend] == ["rgb({}, {}, {})".format(*_rgb(h)) for _, h in named]
            assert not set(traces) & {n for n, _ in named}
            # WebGL canvases at the screen's pixel ratio (1 here), not plotly.js's default 2
            sizes = page.evaluate("[...document.querySelectorAll('#latent_map canvas.gl-canvas')].map(c =>"
                                  " [c.width, parseFloat(c.style.width)])")
            assert sizes and all(w == round(css) for w, css in sizes), sizes
            page.wait_for_timeout(1500)  # let the click bridge attach
            points = point_boxes(page, 60, 1)  # WebGL points: boxes from the data and the axes
            assert len(points) >= 36
            assert ring(page, "A") is None  # nothing selected yet
            page.evaluate(WATCH_CLICK)
            page.evaluate("window.__mapPlayer = 0; document.addEventListener('playing', (e) => {"
                          " if (e.target.closest && e.target.closest('#play_audio')) window.__mapPlayer++; }, true)")
            box = points[4]
            # Hovering names the point: its hover texts came apart from the map (meta.texts).
            page.mouse.move(box["x"] + box["width"] / 2 - 20, box["y"] + box["height"] / 2 - 20)
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=5)
            page.wait_for_function("/(sine|square|saw)_\\d+_(pp|mf|ff)/.test((document.querySelector("
                                   "'#latent_map .hoverlayer .hovertext') || {}).textContent || '')", timeout=15000)
            # ... on the point's own colour (an RGBA point colour alone gave a grey label)
            label_fill, point_fill = page.evaluate("""() => {
              const gd = document.querySelector('#latent_map .js-plotly-plot');
              const n = gd._hoverdata[0].pointNumber;
              return [document.querySelector('#latent_map .hoverlayer .hovertext path').style.fill,
                      gd._fullData[0].hoverlabel.bgcolor[n]];
            }""")
            assert label_fill == "rgb({}, {}, {})".format(*_rgb(point_fill))
            click_plot_point(page, box)
            # The ring moved onto the point at once, drawn there, labelled, and no trace was
            # restyled or recomputed (moving a trace's ring took 3.7 s at 100k points).
            page.wait_for_function("window.__watch.atClick", timeout=30000)
            assert page.evaluate("window.__watch.atClick") == {"recomputed": False, "restyles": 0}
            centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            at = ring(page, "A")
            assert at is not None and at["label"]["text"] == "A"
            assert abs(at["left"] - centre[0]) < 1.5 and abs(at["top"] - centre[1]) < 1.5, (at, centre)
            assert abs(at["drawn"]["left"] - centre[0]) < 1.5 and abs(at["drawn"]["top"] - centre[1]) < 1.5, at
            link = page.wait_for_selector('#play_audio a[href$=".wav"]', timeout=30000)
            href = link.get_attribute("href")
            assert "/gradio_api/file=" in href
            page.wait_for_selector("#point_spec img", timeout=30000)
            # the server-side selection names the clicked item
            page.wait_for_function("/A:\\s*(sine|square|saw)_\\d+_(pp|mf|ff)/.test(document.body.innerText)",
                                   timeout=10000)
            # The sound came straight from the clip route through Web Audio, once: the map's
            # player, filled by the same click, did not start it a second time.
            page.wait_for_function("window.__disentangleQuickPlays === 1", timeout=10000)
            page.wait_for_timeout(1500)
            assert page.evaluate("[window.__disentangleQuickPlays, window.__mapPlayer]") == [1, 0]
            # from the server, not the page's cache: the browser's own players load clips by range,
            # and a cached partial answer comes back as 206
            status = page.evaluate(f"fetch({href!r}, {{cache: 'no-store'}}).then(r => r.status)")
            assert status == 200
            after = ring(page, "A")  # the clicked point stays highlighted
            assert after is not None and (after["x"], after["y"]) == (at["x"], at["y"])
            # A mixture mean's marker plays the same quick way (through Gradio it took 580-700 ms).
            mean = page.evaluate("""() => {
              const gd = document.querySelector('#latent_map .js-plotly-plot');
              const t = gd._fullData.find(d => d.name === 'mixture means');
              if (!t) return null;
              const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
              const x = r.left + xa._offset + xa.l2p(t.x[0]), y = r.top + ya._offset + ya.l2p(t.y[0]);
              return {x: x - 4, y: y - 4, width: 8, height: 8, ref: t.customdata[0]};
            }""")
            assert mean is not None and mean["ref"].startswith("k:"), mean
            click_plot_point(page, mean)
            page.wait_for_function("window.__disentangleQuickPlays === 2", timeout=10000)
            page.wait_for_timeout(1500)
            assert page.evaluate("[window.__disentangleQuickPlays, window.__mapPlayer]") == [2, 0]
            page.screenshot(path=str(out / "app_click.png"), full_page=True)
        finally:
            browser.close()
