"""`bench.py browser`: the explorer as a listener meets it, timed in headless Chromium.

Starts `app/main.py` on a corpus with its checkpoints, drives Debian's
Chromium through Playwright and times, from the user's gesture (mouse down or
key press, stamped in the page with `performance.now()`) to what they wait for:
- click -> audio: until the sound starts, as bridge.js stamps it: a player's
  'playing' event, or a Web Audio start plus the context's output latency;
- click -> neighbours: until the neighbour table lists the new point's neighbours (stamped by
  a MutationObserver in the page, `watch_change`);
- search: from Enter until the match table shows the results;
- space switch with a cached map: until the map's title names the new space.
Targets (issue 11): p95 <= 250 ms, <= 300 ms, <= 200 ms, <= 1 s.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from disentangle.benchmarks.app import _pct, start_app, stop_app
from disentangle.paths import checkpoints_dir, data_root

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"]
PLOT = "#latent_map .js-plotly-plot"
# Every gesture stamps its time, so a measurement starts where the user acted.
STAMP = """() => {
  for (const type of ['mousedown', 'keydown']) {
    document.addEventListener(type, () => { window.__t0 = performance.now(); }, true);
  }
}"""
SEARCHES = ("violin", "flute ff", "C4", "trumpet pp", "cello G3", "piano", "mf", "clarinet C5", "organ", "A4")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=str(data_root() / "notes"), help="corpus folder")
    parser.add_argument("--checkpoint", nargs="*", default=None, help="checkpoints (default: the shipped "
                        "ones trained on this corpus)")
    parser.add_argument("--clicks", type=int, default=30, help="clicks timed")
    parser.add_argument("--searches", type=int, default=10)
    parser.add_argument("--switches", type=int, default=6, help="space switches timed")
    parser.add_argument("--gl-iters", type=int, default=16)
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    parser.add_argument("--cache", default=None, help="the app's cache folder, kept between runs (default: a "
                        "fresh one: a first start, latents and the first maps computed before serving)")
    parser.add_argument("--precompute", action="store_true", help="let the app fit every other space's map "
                        "in the background while the clicks are timed, as `make run` does")


def _since_gesture(page, predicate: str, timeout_ms: float = 60000) -> float:
    """Seconds from the last gesture until `predicate` (JS expression) holds, polled every frame."""
    page.wait_for_function(f"(() => {{ if (!({predicate})) return false;"
                           " window.__t1 = performance.now(); return true; })()", polling="raf",
                           timeout=timeout_ms)
    return page.evaluate("(window.__t1 - window.__t0) / 1000")


def watch_change(page, elem_id: str, text_js: str) -> None:
    """Stamp (window.__changedAt) the first moment after the next gesture that the text `text_js`
    differs from what it was at the gesture, from a MutationObserver on `#elem_id`. Polling for the change from here stamped it when the
    poll first ran: ~500 ms after a click whose neighbours were listed at ~50 ms, because every
    round trip to the page waited behind Gradio's work on the click's answers."""
    page.evaluate("""([id, textJs]) => {
      const text = new Function('return ' + textJs);
      const armed = performance.now();
      window.__changedAt = 0;
      let before = text();
      if (window.__changeWatch) window.__changeWatch.disconnect();
      window.__changeWatch = new MutationObserver(() => {
        const now = text();
        // Until the gesture, what changes (an earlier answer still being applied) is the before.
        if (!(window.__t0 >= armed)) { before = now; return; }
        if (!window.__changedAt && now && now !== before) window.__changedAt = performance.now();
      });
      window.__changeWatch.observe(document.getElementById(id), {childList: true, subtree: true, characterData: true});
    }""", [elem_id, text_js])


def change_since_gesture(page, timeout_ms: float = 60000) -> float:
    """Seconds from the last gesture until the change `watch_change` waits for."""
    page.wait_for_function("window.__changedAt > 0", timeout=timeout_ms)
    return page.evaluate("(window.__changedAt - window.__t0) / 1000")


def sound_since_gesture(page, before: float, timeout_ms: float = 60000) -> float:
    """Seconds from the last gesture until a sound started after stamp `before`: from bridge.js's
    own stamp (a player's 'playing', or a Web Audio start plus the output latency), not from
    when a poll of the page saw it."""
    _since_gesture(page, f"(window.__disentangleLastPlay || 0) > {before}", timeout_ms)
    return page.evaluate("(window.__disentangleLastPlay - window.__t0) / 1000")


# Where the corpus trace's points are on the page, from the data and the axes:
# works for SVG and WebGL maps alike (a WebGL map has no element per point).
POINT_BOXES = """([limit, every]) => {
  const gd = document.querySelector('#latent_map .js-plotly-plot');
  if (!gd || !gd._fullLayout || !gd._fullData || !gd._fullData.length) return [];
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, t = gd._fullData[0];
  const r = gd.getBoundingClientRect(), size = (t.marker && t.marker.size) || 6, out = [];
  for (let i = 0; i < t.x.length && out.length < limit; i += every) {
    const x = r.left + xa._offset + xa.l2p(t.x[i]), y = r.top + ya._offset + ya.l2p(t.y[i]);
    if (x > r.left + xa._offset && x < r.left + xa._offset + xa._length &&
        y > r.top + ya._offset && y < r.top + ya._offset + ya._length) {
      out.push({x: x - size / 2, y: y - size / 2, width: size, height: size,
                row: Number(t.customdata[i])});
    }
  }
  return out;
}"""


def point_boxes(page, limit: int = 400, every: int = 7) -> list[dict]:
    """Bounding boxes (page coordinates, plus the corpus `row`) of up to `limit` corpus points."""
    return page.evaluate(POINT_BOXES, [limit, every])


# The ring around A or B (a layout shape and an annotation named "selected A"/"selected B",
# figures.ring_shape): its anchor in data coordinates and on the page, where its drawn circle
# is, and its drawn label.
RING = """(slot) => {
  const gd = document.querySelector('#latent_map .js-plotly-plot');
  const fl = gd && gd._fullLayout, name = 'selected ' + slot;
  const k = ((fl && fl.shapes) || []).findIndex(s => s && s.name === name);
  if (k < 0 || !fl.shapes[k].visible) return null;
  const s = fl.shapes[k], xa = fl.xaxis, ya = fl.yaxis, r = gd.getBoundingClientRect();
  const path = gd.querySelector(`.shapelayer path[data-index="${k}"]`);
  const box = path && path.getBoundingClientRect();
  const j = (fl.annotations || []).findIndex(a => a && a.name === name);
  const text = gd.querySelector(`.annotation[data-index="${j}"]`);
  const at = text && text.getBoundingClientRect();
  return {x: s.xanchor, y: s.yanchor, left: r.left + xa._offset + xa.l2p(s.xanchor),
          top: r.top + ya._offset + ya.l2p(s.yanchor),
          drawn: box && box.width ? {left: box.left + box.width / 2, top: box.top + box.height / 2} : null,
          label: text ? {text: text.textContent, left: at.left, top: at.top} : null};
}"""


def ring(page, slot: str = "A") -> dict | None:
    """The ring around `slot` (A or B) on the map, None while hidden: anchor `x`, `y` (data),
    `left`, `top` (page pixels), `drawn` (the centre of its drawn circle), `label` (its text and
    top-left corner on the page)."""
    return page.evaluate(RING, slot)


def wait_for_map(page, timeout_ms: float = 300000) -> None:
    """Until the map has drawn its corpus points (SVG elements or a WebGL trace)."""
    page.wait_for_function("(() => { const gd = document.querySelector('#latent_map .js-plotly-plot');"
                           " return gd && gd._fullData && gd._fullData.length && gd._fullData[0].x &&"
                           " gd._fullData[0].x.length > 0 && gd.querySelector('.main-svg'); })()",
                           timeout=timeout_ms)


def _visible_points(page) -> list[dict]:
    return point_boxes(page, 430, 7)


def click_plot_point(page, box: dict) -> None:
    """Click the centre of a Plotly point's bounding `box` as a user does (the tests use it too)."""
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x - 25, y - 25)
    page.mouse.move(x, y, steps=6)  # plotly only clicks what it has seen hovered
    page.wait_for_timeout(300)
    page.mouse.down()
    page.mouse.up()


def table_rows_js(elem_id: str) -> str:
    """A JS expression: the body rows of the pick table `#elem_id` (app/pick_table.py), as an
    array of elements. (They were a `gr.Dataframe`, whose rows are `div[role=row]`.)"""
    return f"[...document.querySelectorAll('#{elem_id} tbody tr')]"


def table_text_js(elem_id: str) -> str:
    """A JS expression: the text of the table's body rows, one line per row."""
    return f"{table_rows_js(elem_id)}.map(r => r.innerText.replace(/\\s+/g, ' ')).join('\\n')"


def _summary(values: list[float]) -> dict:
    return {"n": len(values), "p50_ms": 1000 * statistics.median(values), "p95_ms": 1000 * _pct(values, 95),
            "max_ms": 1000 * max(values)} if values else {"n": 0}


def measure(url: str, args: argparse.Namespace) -> dict:
    from playwright.sync_api import sync_playwright

    out: dict = {"click_to_audio": [], "click_to_neighbours": [], "search": [], "space_switch_cached": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1200})
            page.goto(url, wait_until="domcontentloaded", timeout=300000)
            wait_for_map(page)
            page.evaluate(STAMP)
            page.wait_for_timeout(2000)
            boxes = _visible_points(page)
            rng = random.Random(0)
            for n, box in enumerate(rng.sample(boxes, min(len(boxes), args.clicks + 2))):
                before = page.evaluate("window.__disentangleLastPlay || 0")
                watch_change(page, "neighbour_table", table_text_js("neighbour_table"))
                click_plot_point(page, box)
                audio = sound_since_gesture(page, before)
                nb = change_since_gesture(page)
                if n >= 2:  # the first clicks warm caches up
                    out["click_to_audio"].append(audio)
                    out["click_to_neighbours"].append(nb)
            page.get_by_role("tab", name="Search").click()
            query_box = "#search_query textarea, #search_query input"
            for n, query in enumerate((SEARCHES * 4)[: args.searches + 1]):
                page.fill(query_box, query)
                watch_change(page, "search_summary", "document.querySelector('#search_summary').innerText")
                page.focus(query_box)
                page.keyboard.press("Enter")
                took = change_since_gesture(page)
                if n:
                    out["search"].append(took)
            spaces = page.evaluate(f"document.querySelector('{PLOT}').layout.title.text")
            out["first_map"] = spaces
            try:
                names = _space_names(page)
                out["spaces"] = tuple(names)
                for n in range(args.switches + len(names)):
                    target = names[(n + 1) % len(names)]
                    took = _switch_space(page, target)
                    if n >= len(names):  # the first round fits or loads each map once
                        out["space_switch_cached"].append(took)
            except Exception as exc:  # noqa: BLE001 -- keep the figures measured so far, say what failed
                out["space_switch_error"] = f"{type(exc).__name__}: {exc}"
                page.screenshot(path=str(Path(args.json or "bench-browser").with_suffix(".switch-error.png")))
        finally:
            browser.close()
    return {k: (_summary(v) if isinstance(v, list) else v) for k, v in out.items()}


def dropdown_options(page, elem_id: str) -> list:
    """Open the `gr.Dropdown` `#elem_id` and return its option elements.

    Gradio 6.31 lists them as `li[role=option]` inside the dropdown (the chosen
    one prefixed with a check mark, its name in `aria-label`), not the older
    `ul.options li`. The elements are a snapshot: Gradio may re-render the list
    at any time, so clicking one of them can fail ("not attached to the DOM");
    `choose_option` clicks through a locator instead. The list opens when the
    input gets the focus, so an input that still has it loses it first.
    """
    box = page.locator(f"#{elem_id} input")
    box.blur()
    box.click()
    page.wait_for_selector(f"#{elem_id} [role=option]", timeout=15000)
    return page.query_selector_all(f"#{elem_id} [role=option]")


def _option_text(el) -> str:
    return el.inner_text().replace("\u2713", "").strip()


def choose_option(page, elem_id: str, name: str) -> None:
    """Pick option `name` of the dropdown `#elem_id` as a user does (the tests use it too).

    The list opens when the input gets the focus: a click on an input that
    still has it (after Escape closed the list) opens nothing, which is why the
    WebGL re-render test "could not open the space dropdown"; the input loses
    the focus first. The option is clicked through a locator, which
    finds it again if Gradio re-rendered the list in between (a stale element
    handle failed with "not attached to the DOM")."""
    box = page.locator(f"#{elem_id} input")
    box.blur()
    box.click()
    option = page.locator(f"#{elem_id}").get_by_role("option", name=name, exact=True)
    try:
        option.click(timeout=15000)
    except Exception as exc:  # playwright's TimeoutError: say which option was missing
        raise ValueError(f"#{elem_id} has no option {name!r}") from exc


def _space_names(page) -> list[str]:
    names = [_option_text(el) for el in dropdown_options(page, "space_select")]
    page.locator("#space_select input").blur()  # closes the list
    return names


def _switch_space(page, name: str, timeout_ms: float = 60000) -> float:
    choose_option(page, "space_select", name)
    return _since_gesture(page, f"(() => {{ const gd = document.querySelector('{PLOT}');"
                                f" return gd && gd.layout && gd.layout.title &&"
                                f" gd.layout.title.text.includes(' / ' + {json.dumps(name)} + ' ('); }})()",
                          timeout_ms)


def run(args: argparse.Namespace) -> dict:
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from disentangle.data.schema import load_corpus

    corpus = load_corpus(args.data)
    checkpoints = args.checkpoint
    if not checkpoints:
        from disentangle import load_model
        from disentangle.explore.corpus_match import matching_models

        shipped = {str(p): load_model(p) for p in sorted(checkpoints_dir().glob("*.pt"))}
        checkpoints = list(matching_models(shipped, corpus.name))
    work = Path(tempfile.mkdtemp(prefix="bench-browser-"))
    # A fresh cache is a first start: latents and the first maps are computed before the server
    # answers. --cache reuses one (a warm start); --precompute fits the other maps meanwhile.
    cache = Path(args.cache) if args.cache else work / "explore-cache"
    proc, url, started = start_app(checkpoints, args.data, cache, args.gl_iters, work / "app.log",
                                   precompute=args.precompute)
    try:
        t = time.perf_counter()
        results = measure(url, args)
        results["wall_s"] = time.perf_counter() - t
    finally:
        stop_app(proc)
    results.update({"corpus_items": len(corpus), "precompute": args.precompute, "checkpoints": [Path(c).stem for c in checkpoints],
                    "start_s": started})
    for key in ("click_to_audio", "click_to_neighbours", "search", "space_switch_cached"):
        r = results[key]
        if r["n"]:
            print(f"{key:22s} n={r['n']:3d}  p50 {r['p50_ms']:7.0f} ms  p95 {r['p95_ms']:7.0f} ms  "
                  f"max {r['max_ms']:7.0f} ms", flush=True)
    if "space_switch_error" in results:
        print(f"space switch not measured: {results['space_switch_error']}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return results
