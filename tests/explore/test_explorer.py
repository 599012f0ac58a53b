"""Explorer + actions on a tiny checkpoint and corpus: caches, maps, renders, uploads."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from disentangle.audio.io import AudioError
from disentangle.explore import actions, export
from disentangle.explore.explorer import Explorer
from disentangle.explore.mapview import MapOptions, map_figure
from disentangle.explore.projection import ProjectionParams
from disentangle.explore.refs import Ref, parse_click
from disentangle.explore.session import Session

PCA = ProjectionParams("pca")


def test_latents_and_maps_come_from_disk_cache(world, explorer, monkeypatch):
    corpus, _ = world
    entry = explorer.entry("tiny")
    assert entry.latents["motion"].shape == (36, 8, 2) and entry.flat["motion"].shape == (36, 2)
    assert explorer.has_projection("tiny", "timbre", PCA)

    def boom(*a, **k):
        raise AssertionError("recomputed although cached")
    import disentangle.explore.explorer as explorer_mod
    from disentangle.interface import Interface
    monkeypatch.setattr(Interface, "encode", boom)
    monkeypatch.setattr(explorer_mod, "fit_projection", boom)
    again = Explorer({"tiny": entry.model}, corpus).build(None, PCA)
    assert np.allclose(again.entry("tiny").latents["timbre"], entry.latents["timbre"])
    assert again.projection("tiny", "timbre", PCA).from_cache


def test_map_figure_filters_and_marks(explorer):
    s = Session(a=Ref.corpus(4), selection=[Ref.corpus(1), Ref.corpus(5)])
    fig, caption = map_figure(explorer, "tiny", "timbre", PCA, MapOptions("instrument", "dynamics", ["ff"]), s)
    assert caption.startswith("12 of 36 items shown")
    names = [t.name for t in fig.data]
    assert "mixture means" in names and "selection" in names
    ring = next(r for r in fig.layout.shapes if r.name == "selected A")
    assert ring.visible and (ring.xanchor, ring.yanchor) == explorer.point_xy("tiny", "timbre", PCA, Ref.corpus(4), s)
    assert list(next(t for t in fig.data if t.name == "selection").customdata) == ["c:1", "c:5"]
    hover = [h for t in fig.data if t.hovertext is not None for h in t.hovertext]
    assert any("sine_48_ff" in h and "instrument: sine" in h for h in hover)
    fig, _ = map_figure(explorer, "tiny", "motion", PCA, MapOptions("pitch"), s)  # local space: one point per item
    assert len(next(t for t in fig.data if t.name == "corpus").x) == 36
    with pytest.raises(ValueError):
        map_figure(explorer, "tiny", "nope", PCA, MapOptions(), s)


def test_render_point_keeps_true_level(explorer):
    s = Session()
    pp = actions.render_point(explorer, "tiny", Ref.corpus(0), s)   # sine 48 pp
    ff = actions.render_point(explorer, "tiny", Ref.corpus(2), s)   # sine 48 ff
    rms = lambda a: float(np.sqrt(np.mean(a ** 2)))
    assert rms(ff.original) > 5 * rms(pp.original)  # originals not peak-normalised
    assert pp.clips[0].shape == pp.original.shape == (1920,)
    assert pp.image.size[0] > pp.image.size[1]
    comp = actions.render_point(explorer, "tiny", Ref.component("timbre", 1), s)
    assert comp.original is None and len(comp.clips) == 1


def test_operations(explorer):
    s = Session()
    with pytest.raises(ValueError, match="select a point"):
        actions.sweep(explorer, "tiny", s, None, "timbre", 0)
    s.a = parse_click("c:3|123")
    sw = actions.sweep(explorer, "tiny", s, s.a, "timbre", 1, -1, 1, 9)
    assert len(sw.clips) == 9 and len(sw.features) == 9 and sw.features[0].shape == (24, 16)
    gap = int(actions.GAP_SECONDS * sw.sample_rate)
    assert sw.joined().shape == (9 * 1920 + 8 * gap,)
    assert len(actions.sweep(explorer, "tiny", s, s.a, "motion", 0, -2, 2, 5, unit="std").clips) == 5
    with pytest.raises(ValueError, match="second point"):
        actions.interpolate(explorer, "tiny", s, None)
    s.b = Ref.corpus(30)
    assert len(actions.interpolate(explorer, "tiny", s, "pitch", -1, 2, 4).clips) == 4
    assert actions.swap(explorer, "tiny", s, "timbre").captions[2] == "A with B's timbre"
    targets = actions.class_targets(explorer, "tiny", "timbre")
    assert "sine (mixture mean)" in targets and "saw (average of the corpus)" in targets
    assert len(actions.toward(explorer, "tiny", s, "timbre", "saw (average of the corpus)", 1.0).clips) == 5
    sampled = actions.sample(explorer, "tiny", {"timbre": 0, "pitch": None}, 0.5, 3)
    assert len(sampled.clips) == 3 and "from sine" in sampled.info  # names, not indices
    g = actions.grid(explorer, "tiny", s, "timbre", (0, 1), -1, 1, 3)
    assert len(g.clips) == 9 and g.columns == 3 and g.captions[0] == "(-1.0, +1.0)"  # top-left: highest y


def test_upload_encodes_places_and_rejects_bad_files(explorer, world, tmp_path):
    corpus, _ = world
    s = Session()
    ref, warns = actions.encode_upload(explorer, s, str(corpus.root / "audio/saw_60_ff.wav"), "mine")
    assert ref == Ref.user(0) and any("clips" in w for w in warns)
    s.a = ref
    fig, caption = map_figure(explorer, "tiny", "timbre", PCA, MapOptions("instrument"), s)
    stars = next(t for t in fig.data if t.name == "your sounds")
    assert list(stars.customdata) == ["u:0"] and "Your sounds" in caption
    assert actions.render_point(explorer, "tiny", ref, s).original is not None
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "text.wav").write_text("not audio at all")
    sf.write(tmp_path / "silent.wav", np.zeros(8000, np.float32), 8000)
    for name, reason in (("empty.wav", "empty"), ("text.wav", "readable"), ("silent.wav", "silent")):
        with pytest.raises(AudioError, match=reason):
            actions.encode_upload(explorer, s, str(tmp_path / name))
    assert len(s.user) == 1  # failures add nothing


def test_export_csv(explorer, tmp_path):
    path = export.map_csv(explorer, "tiny", "timbre", PCA, Session(), tmp_path / "map.csv")
    lines = path.read_text().splitlines()
    assert lines[0].startswith("x,y,kind,path,instrument")
    assert sum(",corpus," in ln for ln in lines) == 36 and sum("mixture mean" in ln for ln in lines) == 3


def test_maps_are_bounded_in_memory_and_on_disk(world, explorer, tmp_path, monkeypatch):
    """Each new map is one entry of an LRU in memory and one file pair on disk; the
    least recently used go first, and a reused map is refreshed."""
    import disentangle.explore.explorer as explorer_mod

    corpus, _ = world
    monkeypatch.setattr(explorer_mod, "MAX_MAPS_ON_DISK", 3)
    ex = Explorer({"tiny": explorer.entry("tiny").model}, corpus, cache_root=tmp_path).build(None, PCA)
    ex._projections = explorer_mod.LRU(2)
    folder = ex.entry("tiny").cache.folder
    params = [ProjectionParams("pca", pcs=(1, k)) for k in (2, 3)] + [ProjectionParams("pca", pcs=(2, 3))]
    for p in params:
        ex.projection("tiny", "timbre", p)
    assert len(ex._projections) == 2 and len(list(folder.glob("proj_*.npy"))) == 3
    assert not ex._key_locks  # no lock per key kept forever
    ex.projection("tiny", "timbre", params[0])        # from disk: now the most recent
    ex.projection("tiny", "timbre", ProjectionParams("pca", pcs=(1, 1)))
    kept = {p.stem for p in folder.glob("proj_*.npy")}
    assert f"proj_timbre_{params[0].key()}" in kept and len(kept) == 3
    assert not (folder / f"proj_timbre_{params[1].key()}.json").exists()  # pairs go together


def test_fits_take_one_slot_and_one_thread(world, explorer, monkeypatch):
    """Slow fits run one at a time (clicks keep the other cores); PCA never waits."""
    import threading
    import time

    from threadpoolctl import threadpool_info

    import disentangle.explore.explorer as explorer_mod

    corpus, _ = world
    ex = Explorer({"tiny": explorer.entry("tiny").model}, corpus).build(None, PCA)
    active, peak, threads = [0], [0], []
    lock = threading.Lock()
    real = explorer_mod.fit_projection

    def slow_fit(x, params, progress=None):
        if params.method == "pca":
            return real(x, params)
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        threads.append(max((i.get("num_threads", 1) for i in threadpool_info()), default=1))
        time.sleep(0.2)
        with lock:
            active[0] -= 1
        return real(x, ProjectionParams("pca"))

    monkeypatch.setattr(explorer_mod, "fit_projection", slow_fit)
    monkeypatch.setattr(explorer_mod.Projection, "save", lambda self, stem: None)
    jobs = [threading.Thread(target=ex.projection, args=("tiny", "timbre", ProjectionParams("tsne", perplexity=p)))
            for p in (5, 10, 20)]
    for j in jobs:
        j.start()
    time.sleep(0.05)
    t0 = time.perf_counter()
    ex.projection("tiny", "pitch", ProjectionParams("pca", pcs=(1, 2), seed=1))  # not behind the fits
    assert time.perf_counter() - t0 < 0.15
    for j in jobs:
        j.join()
    assert peak[0] == 1 and threads and max(threads) == 1
