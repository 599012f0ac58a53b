"""The map drawn with WebGL (as for big corpora): clicks still play, re-renders leak no WebGL context.

Gradio mounts a new plot element for every map it receives and drops the old
one without `Plotly.purge`; the old plot stayed reachable with its two WebGL
contexts: without the fix below, 13 re-renders left 16 contexts alive (Chromium's
limit, which it enforces by losing the oldest with the warning "Too many active
WebGL contexts") and the heap grew from 35.0 to 46.6 MB over 10 of them.
app/bridge.js now purges a plot that leaves the page and releases its contexts.
Here the tiny corpus is forced onto `go.Scattergl`; the second test re-renders
the map 13 times by switching spaces, counts the WebGL contexts and watches the
JS heap.
"""
from __future__ import annotations

import pytest
from test_browser import ARGS, CHROMIUM, serve_app

from disentangle.benchmarks.browser import (
    _space_names,
    _switch_space,
    click_plot_point,
    point_boxes,
    ring,
    wait_for_map,
)

# The tiny-world prelude of test_browser.LAUNCHER, with the compact payload of a big map.
LAUNCHER = """
import runpy, sys
sys.path.insert(0, {explore!r})
import tiny_world  # registers the tiny model class before the checkpoint loads
from disentangle.explore import figures
figures.HOVER_TEXT_MAX = 0  # no per-point hover texts
sys.argv = ["app/main.py"] + {argv!r}
runpy.run_path({main!r}, run_name="__main__")
"""
# Counts WebGL contexts as the page creates them: made, on a canvas in the page (live), and not
# lost (active: what Chromium counts towards its limit of 16 until they are garbage-collected).
# Weak references, so that the count keeps no old plot alive (the heap is measured too).
COUNT_GL = """() => {
  window.__glMade = 0; window.__glContexts = [];
  const get = HTMLCanvasElement.prototype.getContext;
  HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
    const ctx = get.call(this, kind, ...rest);
    if (ctx && /webgl/.test(kind) && !this.__counted) {
      this.__counted = true; window.__glMade++; window.__glContexts.push(new WeakRef(ctx));
    }
    return ctx;
  };
  const alive = () => window.__glContexts.map(r => r.deref()).filter(c => c);
  window.__glLive = () => alive().filter(c => c.canvas.isConnected).length;
  window.__glActive = () => alive().filter(c => !c.isContextLost()).length;
}"""


@pytest.fixture
def webgl_app(world, tmp_path):
    yield from serve_app(world, tmp_path, launcher=LAUNCHER, start_timeout=600)


@pytest.fixture
def webgl_page(request):
    """(page, WebGL console warnings) on the served WebGL app, in Chromium; closed after the test."""
    if not CHROMIUM.exists():  # before the app is served
        pytest.skip("/usr/bin/chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    url = request.getfixturevalue("webgl_app")
    with sync_playwright() as p:
        browser, page, warnings = _open(p, url)
        try:
            yield page, warnings
        finally:
            browser.close()


def _open(p, url):
    # precise heap sizes (not rounded buckets) and a callable gc(), for the heap check
    browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                args=ARGS + ["--enable-precise-memory-info", "--js-flags=--expose-gc"])
    # a 2x screen: the map's WebGL canvases follow it (early.js plotGlPixelRatio)
    page = browser.new_page(viewport={"width": 1400, "height": 1100}, device_scale_factor=2)
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if "WebGL" in m.text else None)
    page.add_init_script(f"({COUNT_GL})()")
    page.goto(url)
    wait_for_map(page, 120000)
    page.wait_for_timeout(1500)  # let the click bridge attach
    return browser, page, warnings

# The JS heap after garbage collection: the smallest of three collections 200 ms apart
# (a single reading swung by ~4 MB between switches on a flat heap).
HEAP = """async () => {
  let least = Infinity;
  for (let i = 0; i < 3; i++) {
    window.gc();
    await new Promise(r => setTimeout(r, 200));
    least = Math.min(least, performance.memory.usedJSHeapSize);
  }
  return least;
}"""


@pytest.mark.browser
@pytest.mark.slow
def test_webgl_map_draws_and_a_click_plays(webgl_page):
    page, _ = webgl_page
    assert page.evaluate("document.querySelector('#latent_map .js-plotly-plot')._fullData[0].type") \
        == "scattergl"
    sizes = page.evaluate("[...document.querySelectorAll('#latent_map canvas.gl-canvas')].map(c =>"
                          " [c.width, parseFloat(c.style.width)])")
    assert sizes and all(w == 2 * round(css) for w, css in sizes), sizes
    # no SVG element per corpus point (only the few means / marks remain SVG)
    assert page.evaluate("document.querySelectorAll('#latent_map .scatterlayer .point').length") < 36
    boxes = point_boxes(page, 40, 1)
    assert len(boxes) >= 30
    click_plot_point(page, boxes[3])
    at, box = ring(page, "A"), boxes[3]  # the ring (an SVG shape over the WebGL points) moved onto it
    assert at is not None and abs(at["drawn"]["left"] - box["x"] - box["width"] / 2) < 1.5
    assert abs(at["drawn"]["top"] - box["y"] - box["height"] / 2) < 1.5
    page.wait_for_selector('#play_audio a[href$=".wav"]', timeout=30000)
    page.wait_for_function("/A:\\s*(sine|square|saw)_\\d+_(pp|mf|ff)/.test(document.body.innerText)",
                           timeout=10000)


@pytest.mark.browser
@pytest.mark.slow
def test_webgl_rerenders_leave_no_context_behind(webgl_page):
    page, warnings = webgl_page
    names = _space_names(page)
    assert len(names) >= 2, names
    made_before = page.evaluate("window.__glMade")
    n = 0
    for name in names[1:] + names[:1]:  # the first round: every space's map fitted once
        _switch_space(page, name, 300000)
        n += 1
    heap_first = page.evaluate(HEAP)
    for _ in range(10):  # then 10 more maps, all from the cache
        _switch_space(page, names[(n + 1) % len(names)], 300000)
        n += 1
    page.wait_for_timeout(1000)
    heap_last = page.evaluate(HEAP)
    live, active = page.evaluate("[window.__glLive(), window.__glActive()]")
    made = page.evaluate("window.__glMade") - made_before
    print(f"{n} re-renders: {made} WebGL contexts made, {live} on the page, {active} not lost; "
          f"heap {heap_first / 2**20:.1f} -> {heap_last / 2**20:.1f} MB")
    # every map is drawn into the one plot: its contexts are made once, none per re-render
    # (Gradio's own plot mounted a new element with new contexts for every map)
    assert made == 0, (made, n)
    assert active == live <= 3, (live, active, made)
    assert not [w for w in warnings if "Too many active WebGL contexts" in w], warnings
    assert heap_last <= 1.10 * heap_first, (heap_first, heap_last)
    wait_for_map(page, 30000)
    boxes = point_boxes(page, 40, 1)  # the last map still takes clicks
    page.evaluate("window.__lastPlay = window.__disentangleLastPlay || 0")
    click_plot_point(page, boxes[5])
    page.wait_for_function("(window.__disentangleLastPlay || 0) > window.__lastPlay", timeout=60000)
