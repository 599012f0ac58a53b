(() => {
  // The page's first script (app/plotly_route.py writes it into the HTML): loads the map's
  // plotly.js and fetches the default view's map while Gradio is still loading and mounting
  // the page; bridge.js draws it, and every later map, into #latent_map's one plot element.
  if (window.__disentangleEarly) return;  // written into the page and given as Gradio's head
  const early = window.__disentangleEarly = {path: '', first: null};
  const fetchJson = early.fetchJson = (url) =>
    fetch(url).then(r => r.ok ? r.json() : Promise.reject(new Error(String(r.status))));
  // One answer per key, asked once, the newest `size` kept (hover texts here; clips and
  // neighbours in bridge.js); a failed one (e.g. busy) is asked again next time.
  const remembered = early.remembered = (cache, size, key, ask) => {
    if (!cache.has(key)) {
      const answer = ask();
      cache.set(key, answer);
      answer.catch(() => cache.delete(key));
      while (cache.size > size) cache.delete(cache.keys().next().value);
    }
    return cache.get(key);
  };
  // A map's hover texts by their path, the newest few (the same for every space of a model).
  const texts = new Map();
  early.askTexts = (path) => remembered(texts, 8, path, () => fetchJson(path.slice(1)));
  // The corpus trace's class colours travel as one byte per point on a stepped colour scale
  // (figures._indexed_colours: index k is the scale's k-th colour). Handed to plotly.js as
  // that, it computes every point's colour through the scale: 0.75 s of a 1.5 s newPlot at
  // 100k points here; as the palette's colour strings, 0.3 s. Strings are still parsed twice
  // a point (plotly's scattergl style), so the points get the palette as [r, g, b, a] arrays
  // of 0-1, which it copies unparsed: newPlot of a bare 100k-point page 1.05 -> 0.86 s
  // (median of 4 loads each). Hover labels read a point's colour as a string (an array
  // there gives a grey label), so they get the palette's strings through hoverlabel.bgcolor.
  // A colour that is not #rrggbb stays a string (plotly parses it, as before).
  // (tests/app/test_browser.py checks that the drawn colours are the scale's.)
  const rgba = (c) => typeof c === 'string' && /^#[0-9a-f]{6}$/i.test(c)
    ? [1, 3, 5].map(k => parseInt(c.slice(k, k + 2), 16) / 255).concat([1]) : c;
  const flatColours = (trace) => {
    const m = trace && trace.marker;
    if (!m || !m.color || m.color.dtype !== 'u1' || typeof m.color.bdata !== 'string'
        || !Array.isArray(m.colorscale) || m.cmin !== 0) return;
    const bytes = atob(m.color.bdata), palette = m.colorscale.map(e => e[1]), arrays = palette.map(rgba);
    const out = new Array(bytes.length), names = new Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) {
      let k = bytes.charCodeAt(i);
      if (k >= palette.length) k = 0;
      out[i] = arrays[k];
      names[i] = palette[k];
    }
    m.color = out;
    trace.hoverlabel = Object.assign({}, trace.hoverlabel, {bgcolor: names});
    delete m.colorscale; delete m.cmin; delete m.cmax;
  };
  // The class legend: the figure names each class with a point-less trace (figures.latent_map;
  // the corpus's points are all in its first trace, so plotly's legend toggled nothing).
  // Those traces become a plain legend under the plot: as traces they were ~0.12 s of a
  // 100,000-point map's newPlot here (0.77 -> 0.64 s, median of 6 page loads each).
  const legendOnly = (t) => t && t.type === 'scatter' && Array.isArray(t.x) && t.x.length === 1
    && t.x[0] === null && typeof t.name === 'string';
  const drawLegend = (gd, entries) => {
    const parent = gd && gd.parentNode;
    if (!parent) return;
    let box = [...parent.children].find(e => e.classList.contains('map-legend'));
    if (!box) {
      box = document.createElement('div');
      box.className = 'map-legend';
      gd.after(box);
    }
    box.replaceChildren(...entries.map(([name, colour]) => {
      const item = document.createElement('span'), dot = document.createElement('i');
      item.className = 'map-legend-item';
      dot.style.background = typeof colour === 'string' ? colour : '';
      item.append(dot, document.createTextNode(name));  // names come from a user's corpus: text only
      return item;
    }));
    box.hidden = !entries.length;
  };
  // A map's figure JSON -> the arguments of Plotly.newPlot / react, as every map is drawn:
  // options as Gradio's own plot set them (responsive, autosize, room for the title). With
  // the plot element `gd`, its class legend is drawn beside it. The WebGL canvases at the
  // screen's own pixel ratio: plotly.js draws them at 2x by default (plotGlPixelRatio), four
  // times the pixels of a 1x screen, and with software WebGL (Chromium here) its 100,000-point
  // newPlot took 598-658 ms in the app, 455-491 ms at 1x (2 page loads each). A 2x screen
  // gets 2x, as before (tests/app/test_browser_webgl.py).
  early.args = (fig, gd) => {
    const data = (fig.data || []).filter(t => !legendOnly(t));
    flatColours(data[0]);
    if (gd) drawLegend(gd, (fig.data || []).filter(legendOnly).map(t => [t.name, t.marker && t.marker.color]));
    const layout = fig.layout || {};
    layout.autosize = true;
    layout.margin = Object.assign({}, layout.margin, {autoexpand: true});
    if (layout.title) layout.margin.t = Math.max(100, layout.margin.t || 0);
    return [data, layout, Object.assign({displaylogo: false}, fig.config,
      {responsive: true, plotGlPixelRatio: Math.min(4, Math.max(1, window.devicePixelRatio || 1))})];
  };
  // The corpus trace's hover texts come apart from the map (layout.meta.texts, a path).
  early.withTexts = (fig) => {
    const path = fig && fig.layout && fig.layout.meta && fig.layout.meta.texts;
    const trace = fig && fig.data && fig.data[0];
    if (!path || !trace) return Promise.resolve(fig);
    return early.askTexts(path).then(list => { trace.hovertext = list; return fig; }, () => {
      trace.hovertemplate = 'item %{customdata} (click to hear it)<extra></extra>';
      return fig;
    });
  };
  const script = document.createElement('script');
  script.src = '__BUNDLE_URL__';  // relative: the page may sit under a prefix
  early.plotly = new Promise((resolve, reject) => {
    // Gradio's own plots (the strips) load their plotly.js later and overwrite window.Plotly:
    // the map keeps the one that drew it.
    script.onload = () => { window.__disentanglePlotly = window.Plotly; resolve(window.Plotly); };
    script.onerror = () => reject(new Error('the map library __BUNDLE_URL__ did not load'));
  });
  early.plotly.catch(e => { early.failed = e.message + ': reload the page'; console.warn('disentangle:', e.message); });
  document.head.appendChild(script);
  // The default view's map, when the page carries it (layout.first_map).
  const config = window.gradio_config || {};
  const box = (config.components || []).find(c => c.props && c.props.elem_id === 'map_json');
  const path = box && box.props.value;
  if (typeof path !== 'string' || !path.startsWith('/disentangle/map/')) return;
  // Asked for now, with its hover texts, and drawn here the moment #latent_map's plot element
  // is mounted: Gradio runs the bridge (its js=) 70-130 ms after that at 100k points here.
  // (Drawing it out of view while Gradio mounted, then moving the plot into place, gained
  // ~0.1 s, the two sharing the one main thread, and the moved WebGL plot no longer
  // answered hovers or clicks.) early.firstDrawn: the plot element once drawn, null when
  // it was not (a later map was drawn first); rejected when the map or plotly.js failed,
  // and the bridge asks again.
  early.path = path;
  early.first = fetchJson(path.slice(1)).then(early.withTexts);
  early.first.catch(() => {});
  const mounted = new Promise((resolve) => {
    const look = () => {
      const gd = document.querySelector('#latent_map .map-host');
      if (gd) { watch.disconnect(); resolve(gd); }
    };
    const watch = new MutationObserver(look);  // one call per task that changed the page
    watch.observe(document.documentElement, {childList: true, subtree: true});
  });
  early.firstDrawn = Promise.all([early.first, early.plotly, mounted]).then(([fig, lib, gd]) => {
    if (gd._fullLayout || !gd.isConnected) return null;
    return lib.newPlot(gd, ...early.args(fig, gd)).then(() => gd);
  });
  early.firstDrawn.catch(() => {});
})();
