"""Handler tests of what a listener tripped on (issue 11, "Fix"); each failed before its fix."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import soundfile as sf

from disentangle.explore.mapview import MapOptions, map_figure
from disentangle.explore.projection import ProjectionParams
from disentangle.explore.refs import Ref
from disentangle.explore.session import Session


@pytest.fixture(scope="module")
def handlers(explorer):
    from ui_handlers import Handlers

    return Handlers(explorer, "pca")


def test_space_change_colours_by_its_own_label(handlers):
    """3: the pitch space stayed coloured by instrument."""
    assert handlers.space_colour("tiny", "pitch", "instrument")["value"] == "pitch"
    assert handlers.space_colour("tiny", "timbre", "pitch")["value"] == "instrument"
    assert handlers.space_colour("tiny", "motion", "dynamics")["value"] == "dynamics"  # no label: keep


def test_upload_plays_is_selected_and_named_after_the_users_file(handlers, world, tmp_path):
    """5 and 7: an upload did not play nor show spectrograms; errors named Gradio's temporary path."""
    corpus, _ = world
    folder = tmp_path / "gradio" / "0a1b2c3d"
    folder.mkdir(parents=True)
    mine = folder / "my cello.wav"
    shutil.copy(corpus.root / "audio/saw_60_ff.wav", mine)
    msg, play, original, _recon, image, md, s = handlers.encode_audio(str(mine), "", "B", "tiny", Session())
    assert s.b == Ref.user(0) and "my cello" in md and "my cello" in msg
    assert play[1].dtype == np.int16 and original is not None and image is not None
    bad = folder / "broken take.wav"
    bad.write_text("not audio")
    with pytest.warns(UserWarning) as caught:
        out = handlers.encode_audio(str(bad), "", "A", "tiny", s)
    text = " ".join(str(w.message) for w in caught) + out[0]
    assert "broken take" in text and str(folder) not in text and "Error" not in text
    assert out[0].startswith("**Not done:**")  # the old success text does not stay


def test_sample_and_targets_use_names(handlers, explorer):
    """11: "timbre=14, pitch=39" and "component 0: sine" instead of names."""
    updates = handlers.model_changed("tiny", Session())
    timbre_picker = updates[6]
    assert ("square", "1") in timbre_picker["choices"]
    out = handlers.sample("tiny", 0.0, 2, 0, Session(), "1", "any (whole prior)", "any (whole prior)")
    assert "square" in out[4] and "timbre=" not in out[4]
    assert "square (mixture mean)" in handlers.targets("tiny", "timbre")["choices"][1]


def test_controls_counts_and_heatmap_source(handlers, explorer):
    """12: a means checkbox for models without means; counts; the heatmap's source."""
    from disentangle.explore.describe import corpus_summary, probe_source

    updates = handlers.model_changed("tiny", Session())
    assert updates[-4]["visible"] is True  # the tiny model has mixture means (then colour, filter pickers)
    _, caption = map_figure(explorer, "tiny", "timbre", ProjectionParams("pca"), MapOptions(), Session())
    assert "36 items" in corpus_summary(explorer) and "of 36 items shown" in caption
    model = explorer.entry("tiny").model
    model.report["split"], model.meta["corpus"] = "test", {"name": "notes"}
    try:
        assert probe_source(model) == "the test split of the notes corpus"
    finally:
        del model.report["split"], model.meta["corpus"]


def test_foreign_corpus_hides_the_training_means(explorer):
    """10: on a foreign corpus all training means were drawn in one pile."""
    model = explorer.entry("tiny").model
    pca = ProjectionParams("pca")
    model.meta["corpus"] = {"name": "some_other_corpus"}
    try:
        fig, caption = map_figure(explorer, "tiny", "timbre", pca, MapOptions(), Session())
        assert "mixture means" not in [t.name for t in fig.data] and "Mixture means hidden" in caption
    finally:
        del model.meta["corpus"]
    fig, _ = map_figure(explorer, "tiny", "timbre", pca, MapOptions(), Session())
    assert "mixture means" in [t.name for t in fig.data]


def test_errors_are_one_warning_not_error_badges(handlers):
    """7: a missing A gave four red "Error" badges; now one warning and the info says why."""
    with pytest.warns(UserWarning, match="select a point") as caught:
        out = handlers.interpolate("tiny", "all spaces", 0, 1, 3, Session())
    assert len(caught) == 1 and out[4].startswith("**Not done:**")
    assert all(isinstance(o, dict) and o.get("__type__") == "update" for o in out[:4] + out[5:])


def test_strips_are_figures_with_axes_and_grids_are_grids(handlers):
    """6: strips were JPEGs with 6 px text, no axes; a gallery repeated and cropped them."""
    s = Session(a=Ref.corpus(4))
    fig = handlers.grid("tiny", "timbre", 0, 1, -1, 1, 3, s)[0]
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert len(heatmaps) == 9 and len({t.xaxis for t in heatmaps}) == 9
    assert fig.layout.xaxis7.title.text == "s" and fig.layout.yaxis.title.text == "Hz"
    assert [a.text for a in fig.layout.annotations][:3] == ["(-1.0, +1.0)", "(+0.0, +1.0)", "(+1.0, +1.0)"]
    assert fig.layout.yaxis.type == "log" and heatmaps[0].y[-1] > heatmaps[0].y[0]


def test_wav_export_is_named_after_the_source_and_action(handlers):
    """12: downloads were named "A__reconstruction_1732900000.wav"."""
    _, _, _, _, _, s = handlers.render_point("tiny", "c:7", "A", "reconstruction", Session())
    assert handlers.export_wav("sine_60_mf reconstruction", s).endswith("/sine_60_mf_reconstruction.wav")
    sf.info(handlers.export_wav("sine_60_mf original", s))


def test_refitting_keeps_the_map_visible_with_one_progress_indicator(explorer):
    """9: a refit covered the map with two progress bars; now only the caption shows progress."""
    from main import build_demo

    demo = build_demo(explorer, "pca")
    config = demo.get_config_file()
    # maps come as JSON in #map_json and are drawn into the one #latent_map plot (bridge.js)
    plot = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "map_json")
    drawing = [d for d in config["dependencies"] if plot in [o for o in d["outputs"]]
               and d.get("show_progress_on") is not None]
    assert drawing, "no event draws the map"
    for dep in drawing:
        assert plot not in dep["show_progress_on"] and len(dep["show_progress_on"]) == 1
        assert dep["show_progress"] in ("minimal", "hidden")
