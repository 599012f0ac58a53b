() => {
  // 1. Click bridge: a gr.Plot has no click event, so listen to Plotly's own
  // `plotly_click`, write "<ref>|<time>" into a hidden textbox and fire `input`
  // (Python listens with `.change`). Gradio may rebuild the plot's DOM, hence
  // the observer. The selection ring moves at once, before the server answers.
  const send = (id, value) => {
    const box = document.querySelector(`#${id} textarea, #${id} input`);
    if (!box) return false;
    box.value = value;
    box.dispatchEvent(new Event('input', {bubbles: true}));
    return true;
  };
  window.__disentangleSend = send;
  // The page's first script (early.js): the map's plotly.js, the default view's map asked
  // for, and the helpers both scripts use (fetchJson; remembered, the bounded answer caches of
  // clips, hover texts and neighbours).
  const early = window.__disentangleEarly;
  const {fetchJson, remembered} = early;
  // The map's plotly.js (the gl2d bundle the page's head loads, app/plotly_route.py); Gradio's
  // own plots load another one later, into window.Plotly.
  const mapPlotly = () => window.__disentanglePlotly;
  const mapHost = () => document.querySelector('#latent_map .map-host');
  // Corpus points carry their row number (a typed array travels compactly);
  // every other mark carries its reference text.
  const refOf = (p) => {
    const d = Array.isArray(p.customdata) ? p.customdata[0] : p.customdata;
    return typeof d === 'number' ? 'c:' + d : d;
  };
  // What GET /disentangle/clip and /disentangle/neighbours serve: corpus points and mixture means
  // (a user's own sound needs its session, so it goes the Gradio way).
  const servedRef = (ref) => typeof ref === 'string' && /^(c:\d+|k:[^:]+:\d+)$/.test(ref);
  // The A / B rings are layout shapes with an annotation beside them, both named "selected A"
  // / "selected B" (figures.ring_shape). In Plotly 3.3 a relayout of a position (calc+arraydraw)
  // recomputes every trace (seconds at 100k points), so the position is written into the layout
  // in place and the relayout names only an attribute that redraws the one shape and label
  // (opacity: arraydraw).
  const moveRing = (gd, slot, x, y) => {
    const layout = gd.layout || {}, name = 'selected ' + slot, edit = {};
    for (const [kind, at] of [['shapes', {xanchor: x, yanchor: y}], ['annotations', {x: x, y: y}]]) {
      const k = (layout[kind] || []).findIndex(o => o && o.name === name);
      if (k < 0) continue;
      Object.assign(layout[kind][k], at, {visible: true});
      edit[`${kind}[${k}].opacity`] = 1;
    }
    if (!Object.keys(edit).length || !mapPlotly()) return false;
    mapPlotly().relayout(gd, edit);
    return true;
  };
  window.__disentangleRing = moveRing;
  // Gradio mounts a new plot element for every figure it receives and drops the old one
  // without Plotly.purge (maps no longer go through it, see __disentangleDraw, but any
  // other re-mount would): the old plot stayed reachable (Plotly's window resize handler) with
  // its two WebGL contexts, and once 16 were alive Chromium warned "Too many active WebGL
  // contexts. Oldest context will be lost." (tests/app/test_browser_webgl.py). A plot that
  // has left the page is purged and its contexts released.
  const plots = new Set();
  const release = (gd) => {
    const gls = [];
    try {
      const canvases = gd._fullLayout && gd._fullLayout._glcanvas;
      if (canvases) canvases.each(d => { if (d && d.regl && d.regl._gl) gls.push(d.regl._gl); });
    } catch (e) { /* no WebGL layer */ }
    const lib = gd.classList.contains('map-host') ? mapPlotly() : window.Plotly;
    try { if (lib) lib.purge(gd); } catch (e) { /* already torn down */ }
    for (const gl of gls) {
      const lose = gl.isContextLost() ? null : gl.getExtension('WEBGL_lose_context');
      if (lose) lose.loseContext();
    }
  };
  const purgeGone = () => {
    for (const gd of document.querySelectorAll('.js-plotly-plot')) plots.add(gd);
    for (const gd of plots) {
      if (!gd.isConnected) { plots.delete(gd); release(gd); }
    }
  };
  let firstAsked = false;
  const attach = () => {
    purgeGone();
    // The default view's map comes with the page (layout.first_map; early.js has asked for
    // it already): drawn as soon as the map's container is mounted.
    const first = document.querySelector('#map_json textarea, #map_json input');
    const host = mapHost();
    if (early.failed && host && !host._fullLayout && host.textContent !== early.failed) host.textContent = early.failed;
    if (!firstAsked && first && host) {
      firstAsked = true;
      if (first.value && !pendingMap && !wantedMap) {
        if (early.firstDrawn && early.path === first.value) {  // early.js draws it (or has)
          const path = wantedMap = first.value;
          early.first = null;
          // (null: a later map was drawn first, and stays)
          early.firstDrawn.then(attach, () => { if (wantedMap === path) window.__disentangleDraw(path); });
        } else {
          window.__disentangleDraw(first.value);
        }
      }
    }
    const gd = document.querySelector('#latent_map .js-plotly-plot');
    if (!gd || gd.__bridged || typeof gd.on !== 'function') return;
    gd.__bridged = true;
    gd.on('plotly_click', (ev) => {
      const p = ev && ev.points && ev.points[0];
      if (!p || p.customdata === undefined || p.customdata === null) return;
      const ref = refOf(p);
      quickPlay(gd, ref);  // first: the sound is what the listener waits for
      const checked = document.querySelector('#click_slot input:checked');
      const slot = checked ? checked.value : 'A';
      if (slot === 'A') showNeighbours(gd, ref);
      const stamped = String(ref) + '|' + Date.now();
      if (!send('click_box', stamped)) return;
      send('click_nb_box', stamped);  // its neighbours, asked at once (browse_ui.py says why a second box)
      moveRing(gd, slot, p.x, p.y);
    });
    gd.on('plotly_hover', (ev) => onHover(gd, ev));
    gd.on('plotly_unhover', () => clearTimeout(resting));
    // Box or lasso selection -> the selected references, comma-separated.
    gd.on('plotly_selected', (ev) => {
      if (!ev || !ev.points) return;
      const refs = ev.points.map(refOf)
        .filter(r => typeof r === 'string' && r.startsWith('c:'));
      send('selection_box', refs.join(',') + '|' + Date.now());
    });
  };
  // Marks from the server's JSON ({x, y, refs, names}): the layout shapes "<kind> 0", "<kind> 1", ...
  // (figures.mark_shapes) are moved in place and shown or hidden, like the rings; more are
  // copied from the first. A restyle of a marks trace recomputed every trace and held back the
  // click's audio (0.4-0.6 s at 3,600 points).
  window.__disentangleMark = (kind, text) => {
    const gd = document.querySelector('#latent_map .js-plotly-plot');
    if (!gd || !mapPlotly() || !text || !gd.layout || !gd.layout.shapes) return;
    let m;
    try { m = JSON.parse(text); } catch (e) { return; }
    const shapes = gd.layout.shapes, edit = {}, prefix = kind + ' ';
    const mine = shapes.filter(s => s && typeof s.name === 'string' && s.name.startsWith(prefix));
    if (!mine.length) return;
    for (let i = mine.length; i < m.x.length; i++) {
      const copy = JSON.parse(JSON.stringify(mine[0]));
      copy.name = prefix + i;
      shapes.push(copy);
    }
    shapes.forEach((s, k) => {
      if (!s || typeof s.name !== 'string' || !s.name.startsWith(prefix)) return;
      const i = Number(s.name.slice(prefix.length)), show = i < m.x.length;
      if (!show && s.visible === false) return;  // hidden and staying hidden: nothing to redraw
      Object.assign(s, show ? {xanchor: m.x[i], yanchor: m.y[i], visible: true} : {visible: false});
      edit[`shapes[${k}].opacity`] = 1;
    });
    if (Object.keys(edit).length) mapPlotly().relayout(gd, edit);
  };
  // Maps from the server (a path in the hidden #map_json box) are drawn into one plot, the
  // .map-host element of #latent_map, by the map's own plotly.js: newPlot once, then react.
  // (Gradio's gr.Plot mounted a new plot element for every figure: new WebGL contexts per
  // map, 1-4 s a space switch at 100k points.) A map that comes before the container is
  // mounted or before plotly.js has loaded waits for both; only the latest is kept.
  let pendingMap = null;
  const drawPending = () => {
    const gd = mapHost(), lib = mapPlotly();
    if (!pendingMap || !gd || !lib) return false;
    const fig = pendingMap;
    pendingMap = null;
    nbAnswers.clear();  // a new map may be a new corpus: its rows are other points
    if (gd._fullLayout) {
      lib.react(gd, ...early.args(fig, gd));
    } else {
      lib.newPlot(gd, ...early.args(fig, gd)).then(attach);
    }
    return true;
  };
  // The box carries the path the map's JSON is served at (app/map_store.py): fetched here, so
  // Gradio never parses, stores or clones the 2 MB; only the latest asked is drawn.
  let wantedMap = '';
  const drawWhenMounted = (fig) => {
    pendingMap = fig;
    if (drawPending()) return;
    if (!mapPlotly()) early.plotly.then(drawPending, () => {});
    const started = performance.now();
    const wait = setInterval(() => {
      if (drawPending() || !pendingMap || performance.now() - started > 120000) clearInterval(wait);
    }, 50);
  };
  // The corpus trace's hover texts come apart from the map (layout.meta.texts, a path in the
  // same store): the same for every space of a model, so fetched once (ui_handlers.map_json),
  // into early.js's cache (the first map's were asked for there).
  const withTexts = early.withTexts;
  window.__disentangleDraw = (text) => {
    if (!text) return;
    wantedMap = text;
    if (!text.startsWith('/disentangle/map/')) {  // the figure itself
      let fig;
      try { fig = JSON.parse(text); } catch (e) { return; /* not a map */ }
      withTexts(fig).then(f => { if (wantedMap === text) drawWhenMounted(f); });
      return;
    }
    // relative, as the clip's: the page may sit under a prefix; the default view's map was
    // asked for by early.js (with its texts), once
    const asked = early.first && early.path === text ? early.first : null;
    early.first = null;
    (asked ? asked.catch(() => fetchJson(text.slice(1)).then(withTexts)) : fetchJson(text.slice(1)).then(withTexts))
      .then(fig => { if (wantedMap === text) drawWhenMounted(fig); })
      .catch(e => console.warn('disentangle: map ' + text + ' not fetched:', e));
  };
  new MutationObserver(attach).observe(document.body, {childList: true, subtree: true});
  setInterval(attach, 1000);

  // 2. One sound at a time: whichever player starts pauses every other one (and the click's
  // Web Audio sound, below), including players of other tabs and ones Gradio keeps outside
  // the DOM (its waveform players call play(); the browser's own players, which autoplay by
  // attribute, only fire 'play'). __disentangleLastPlay stamps when sound starts, for the
  // benchmark ('playing' for a player).
  const playing = new Set(), watched = new WeakSet();
  // __disentanglePlayingPeak: the most sounds heard at once when one starts (tests reset it to 0
  // and read it after: a poll of the live count can miss a short clip).
  const stamp = () => {
    window.__disentangleLastPlay = performance.now(); lastWasQuick = false;
    window.__disentanglePlayingPeak = Math.max(window.__disentanglePlayingPeak || 0, window.__disentanglePlaying());
  };
  let skipUntil = 0, skipped = null, lastWasQuick = false;
  const started = (media) => {
    for (const other of playing) {
      if (other !== media && !other.paused) other.pause();
    }
    stopQuick();
    playing.add(media);
    if (!watched.has(media)) { watched.add(media); media.addEventListener('playing', stamp); }
  };
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function (...args) {
    started(this);
    return play.apply(this, args);
  };
  const onPlay = (ev) => { if (ev.target instanceof HTMLMediaElement) started(ev.target); };
  document.addEventListener('play', onPlay, true);
  // Gradio's waveform players (WaveSurfer) keep their <audio> in a shadow root and start it by
  // attribute; 'play' is not composed, so it never reaches the document: such a player went
  // unnoticed (nothing paused, no stamp) until WaveSurfer's own play() once it had decoded.
  // Every shadow root made from here on listens as the document does.
  const attachShadow = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (...args) {
    const root = attachShadow.apply(this, args);
    root.addEventListener('play', onPlay, true);
    return root;
  };
  // The map's player ("playing", #play_audio) has autoplay off: the bridge starts it on each
  // new clip, except the one a map click already plays through Web Audio (below). Pausing it
  // from its 'play' event was too late: 'playing' was queued with it and the clip started twice.
  let mapSrc = '';
  const startMapPlayer = () => {
    const media = document.querySelector('#play_audio audio');
    if (!media || !media.src || media.src === mapSrc) return;
    mapSrc = media.src;
    if (performance.now() < skipUntil) { skipUntil = 0; skipped = media; return; }
    media.play().catch(() => { /* no gesture yet: the user presses play */ });
  };
  new MutationObserver(startMapPlayer).observe(document.body,
    {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
  // Any other gesture ends the window in which the map's player is skipped.
  for (const type of ['mousedown', 'keydown']) {
    document.addEventListener(type, (ev) => {
      if (!(ev.target && ev.target.closest && ev.target.closest('#latent_map'))) skipUntil = 0;
    }, true);
  }
  window.__disentanglePlaying = () => [...playing].filter(m => !m.paused).length
    + (quick.source ? 1 : 0);

  // 3. A click on a corpus point or a mixture mean plays at once: its WAV straight from GET /disentangle/clip
  // (app/clip_route.py), through Web Audio. Through Gradio's queue and player it took ~530 ms
  // (answer, page update, then the player's own load), and asked on the click ~270 ms; the
  // map's player, filled by the same click, is not started for it (see startMapPlayer). On
  // failure that player plays.
  const quick = {ctx: null, source: null, buffer: null, seq: 0};
  const stopQuick = () => {
    if (quick.source) { try { quick.source.stop(); } catch (e) { /* already ended */ } }
    quick.source = null;
  };
  const startBuffer = (buffer) => {
    stopQuick();
    for (const other of playing) { if (!other.paused) other.pause(); }
    const source = quick.ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(quick.ctx.destination);
    source.onended = () => { if (quick.source === source) quick.source = null; };
    source.start();
    quick.source = source;
    lastWasQuick = true;
    window.__disentangleQuickPlays = (window.__disentangleQuickPlays || 0) + 1;
    // sound leaves the speakers after the context's latency
    window.__disentangleLastPlay = performance.now() +
      1000 * ((quick.ctx.baseLatency || 0) + (quick.ctx.outputLatency || 0));
  };
  // The clip of a point the pointer rests on is fetched and decoded before the click (the last
  // few are kept): a click then waits for nothing, or for what is already on its way.
  const clips = new Map();
  const clipOf = (gd, ref) => {
    const model = gd.layout && gd.layout.meta && gd.layout.meta.model;
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!servedRef(ref) || !model || !Ctx) return null;
    const choice = document.querySelector('#autoplay_select input');
    const params = new URLSearchParams({model: model, ref: ref, play: choice ? choice.value : 'reconstruction'});
    return remembered(clips, 8, params.toString(), () => {
      if (!quick.ctx) quick.ctx = new Ctx();  // suspended until a click resumes it; it decodes meanwhile
      return fetch('disentangle/clip?' + params)
        .then(r => r.ok ? r.arrayBuffer() : Promise.reject(r.status))
        .then(bytes => quick.ctx.decodeAudioData(bytes));
    });
  };
  let resting = null;
  const onHover = (gd, ev) => {
    const p = ev && ev.points && ev.points[0];
    clearTimeout(resting);
    if (!p || p.customdata === undefined || p.customdata === null) return;
    const ref = refOf(p);
    resting = setTimeout(() => { clipOf(gd, ref); neighboursOf(gd, ref); }, 80);  // resting, not passing over
  };
  const quickPlay = (gd, ref) => {
    const clip = clipOf(gd, ref);
    if (!clip) return;
    if (quick.ctx.state === 'suspended') quick.ctx.resume();
    const seq = ++quick.seq;
    skipUntil = performance.now() + 3000;
    skipped = null;
    clip.then(buffer => {
      if (seq !== quick.seq) return;  // a newer click
      quick.buffer = buffer;
      startBuffer(buffer);
    }).catch(() => {
      if (seq !== quick.seq) return;
      skipUntil = 0;
      if (skipped) { const media = skipped; skipped = null; media.play(); }
    });
  };

  // 4. Keyboard (ignored while typing): r replays, s swaps A and B,
  // n / p select the next / previous neighbour.
  document.addEventListener('keydown', (ev) => {
    const t = ev.target;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
    const key = ev.key.toLowerCase();
    if (key === 'r') {
      const player = [...playing].pop();
      if (lastWasQuick && quick.buffer) startBuffer(quick.buffer);
      else if (player) { player.currentTime = 0; player.play(); }
    } else if (key === 's') {
      const btn = document.querySelector('#swap_ab');
      if (btn) btn.click();
    } else if (key === 'n' || key === 'p') {
      send('key_box', key + '|' + Date.now());
    } else {
      return;
    }
    ev.preventDefault();
  });

  // The neighbour table's container (#neighbour_table .nb-live) is the page's: the latest table is
  // kept here and written again when Gradio mounts the container anew (its tab shown again).
  let nbHtml = '', nbVersion = 0;
  const fillTable = () => {
    const live = document.querySelector('#neighbour_table .nb-live');
    if (!live || !nbHtml || live.dataset.version === String(nbVersion)) return;
    live.innerHTML = nbHtml;
    live.dataset.version = String(nbVersion);
  };
  window.__disentangleTable = (html) => {
    if (!html || html === nbHtml) return;
    nbHtml = html;
    nbVersion += 1;
    fillTable();
  };
  new MutationObserver(fillTable).observe(document.body, {childList: true, subtree: true});

  // 5. A click's neighbours from GET /disentangle/neighbours (app/neighbours_route.py), asked
  // while the pointer rests on the point (with its sound), listed and marked at the click.
  // Gradio's answer for the same click, later, writes the same table.
  const nbAnswers = new Map();  // url -> promise of {key, html, refs}
  const neighboursOf = (gd, ref) => {
    const meta = (gd.layout && gd.layout.meta) || {};
    if (!meta.model || !meta.space || !servedRef(ref)) return null;
    const which = document.querySelector('#nb_which input');
    const k = document.querySelector('#nb_k input[type=number]');
    const url = 'disentangle/neighbours?' + new URLSearchParams({model: meta.model, space: meta.space,
      which: which && which.value ? which.value : 'map space', k: k && k.value ? k.value : '8', ref: ref});
    return remembered(nbAnswers, 64, url, () => fetchJson(url));
  };
  // Where the map draws each corpus row: its index in the corpus trace (built once per trace).
  const rowIndex = new WeakMap();
  const pointsXY = (gd, refs) => {
    const trace = (gd._fullData || []).find(t => t && t.name === 'corpus');
    const out = {x: [], y: []};
    if (!trace || !trace.customdata) return out;
    let index = rowIndex.get(trace.customdata);
    if (!index) {
      index = new Map();
      for (let i = 0; i < trace.customdata.length; i++) index.set(Number(trace.customdata[i]), i);
      rowIndex.set(trace.customdata, index);
    }
    for (const ref of refs) {
      const i = index.get(Number(String(ref).slice(2)));
      if (i !== undefined) { out.x.push(trace.x[i]); out.y.push(trace.y[i]); }
    }
    return out;
  };
  let nbSeq = 0;
  const showNeighbours = (gd, ref) => {
    const answer = neighboursOf(gd, ref);
    if (!answer) return;
    const seq = ++nbSeq;
    answer.then(m => {
      if (seq !== nbSeq) return;  // a newer click
      window.__disentangleTable(m.html);
      window.__disentangleMark('neighbours', JSON.stringify(pointsXY(gd, m.refs)));
    }).catch(() => { /* Gradio's answer lists them */ });
  };

  // 6. The neighbour and search tables (app/pick_table.py): a row picked (click, or Enter on
  // a focused row) sends its point's reference, as the map's click does.
  const pickBoxes = {neighbour_table: 'nb_pick_box', hit_table: 'hit_pick_box'};
  const pick = (ev) => {
    const row = ev.target && ev.target.closest && ev.target.closest('tr[data-ref]');
    const table = row && row.closest('#neighbour_table, #hit_table');
    if (!table) return false;
    for (const other of table.querySelectorAll('tr.picked')) other.classList.remove('picked');
    row.classList.add('picked');
    return send(pickBoxes[table.id], row.dataset.ref + '|' + Date.now());
  };
  document.addEventListener('click', pick, true);
  document.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' && pick(ev)) ev.preventDefault(); }, true);
}
