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
  // Corpus points carry their row number (a typed array travels compactly);
  // every other mark carries its reference text.
  const refOf = (p) => {
    const d = Array.isArray(p.customdata) ? p.customdata[0] : p.customdata;
    return typeof d === 'number' ? 'c:' + d : d;
  };
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
    if (!Object.keys(edit).length || !window.Plotly) return false;
    window.Plotly.relayout(gd, edit);
    return true;
  };
  window.__disentangleRing = moveRing;
  // Gradio mounts a new plot element for every figure it receives and drops the old one
  // without Plotly.purge: the old plot stayed reachable (Plotly's window resize handler) with
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
    try { if (window.Plotly) window.Plotly.purge(gd); } catch (e) { /* already torn down */ }
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
  const attach = () => {
    purgeGone();
    const gd = document.querySelector('#latent_map .js-plotly-plot');
    if (!gd || gd.__bridged || typeof gd.on !== 'function') return;
    gd.__bridged = true;
    gd.on('plotly_click', (ev) => {
      const p = ev && ev.points && ev.points[0];
      if (!p || p.customdata === undefined || p.customdata === null) return;
      const ref = refOf(p);
      if (!send('click_box', String(ref) + '|' + Date.now())) return;
      const checked = document.querySelector('#click_slot input:checked');
      moveRing(gd, checked ? checked.value : 'A', p.x, p.y);
    });
    // Box or lasso selection -> the selected references, comma-separated.
    gd.on('plotly_selected', (ev) => {
      if (!ev || !ev.points) return;
      const refs = ev.points.map(refOf)
        .filter(r => typeof r === 'string' && r.startsWith('c:'));
      send('selection_box', refs.join(',') + '|' + Date.now());
    });
  };
  // Marks drawn by the server's JSON ({x, y, refs, names}) into an existing trace.
  window.__disentangleMark = (trace, text) => {
    const gd = document.querySelector('#latent_map .js-plotly-plot');
    if (!gd || !window.Plotly || !text) return;
    let m;
    try { m = JSON.parse(text); } catch (e) { return; }
    const idx = (gd.data || []).findIndex(t => t.name === trace);
    if (idx < 0) return;
    window.Plotly.restyle(gd, {x: [m.x], y: [m.y], customdata: [m.refs], hovertext: [m.names],
                               showlegend: m.x.length > 0}, [idx]);
  };
  new MutationObserver(attach).observe(document.body, {childList: true, subtree: true});
  setInterval(attach, 1000);

  // 2. One sound at a time: whichever player starts pauses every other one,
  // including players of other tabs and ones Gradio keeps outside the DOM.
  const playing = new Set();
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function (...args) {
    for (const other of playing) {
      if (other !== this && !other.paused) other.pause();
    }
    playing.add(this);
    window.__disentangleLastPlay = performance.now();
    return play.apply(this, args);
  };
  window.__disentanglePlaying = () => [...playing].filter(m => !m.paused).length;

  // 3. Keyboard (ignored while typing): r replays, s swaps A and B,
  // n / p select the next / previous neighbour.
  document.addEventListener('keydown', (ev) => {
    const t = ev.target;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
    const key = ev.key.toLowerCase();
    if (key === 'r') {
      const player = [...playing].pop();
      if (player) { player.currentTime = 0; player.play(); }
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
}
