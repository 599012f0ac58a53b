"""A user's sound from a sample source the model never heard lands next to its instrument.

The map holds notes of the four training sources; the "uploads" are
MuseScore General Lite notes (the held-out validation source of issue #10),
rendered here and placed with the shipped MD-GMVAE and GMVAE through the same call the
app's upload button makes. A sound is placed well when most of its 5 nearest
neighbours in the timbre space are of its own instrument.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from disentangle.data.sources import locate_sources

TRAIN_SOURCES = ["timgm6mb", "fluidr3", "csound", "opl3"]
HELD = "musescore-lite"
INSTRUMENTS = ["flute", "trumpet", "violin", "clarinet", "cello", "piano"]


# Measured 55 of 60 (0.92) with the 128-band MD-GMVAE of session 15 (56 with the 64-band
# one, 53 with its 12-epoch predecessor); 49 of 60 (0.82) with the 256-band GMVAE of
# session 15; 46 of 60 (0.77) with the level-normalised GMVAE of session 13 since the
# MuseScore bank is played by FluidSynth (session 14; 39 of 60 on its TinySoundFont
# render, whose piano lacked its pitch above E5; 31, 0.52, with the session-4 GMVAE,
# which read the recording level).
# The floors leave room for a retrained checkpoint, not for a model that has learned one
# SoundFont (0.3) or the banks' levels.
FLOOR = {"mdgmvae": 0.8, "gmvae": 0.6}


@pytest.mark.slow
@pytest.mark.parametrize("model", sorted(FLOOR))
def test_uploads_from_an_unseen_source_land_next_to_their_instrument(tmp_path: Path, model: str):
    _, missing = locate_sources([*TRAIN_SOURCES, HELD])
    if missing:  # `make sources` installs them (the CI does)
        pytest.skip("; ".join(missing.values()))
    from disentangle import load_model
    from disentangle.data.builtin import build_builtin
    from disentangle.explore.actions import encode_upload
    from disentangle.explore.explorer import Explorer
    from disentangle.explore.projection import ProjectionParams
    from disentangle.explore.session import Session

    corpus = build_builtin("notes", tmp_path / "map", sources=TRAIN_SOURCES, holdout=[], instruments=INSTRUMENTS,
                           max_notes=240, percussion=False, progress=False)
    held = build_builtin("notes", tmp_path / "held", sources=[HELD], holdout=[], instruments=INSTRUMENTS,
                         max_notes=60, percussion=False, progress=False)
    assert {it.source for it in corpus.items} == set(TRAIN_SOURCES)
    assert {it.source for it in held.items} == {HELD} and len(held.items) >= 40

    ex = Explorer({model: load_model(model)}, corpus, cache_root=tmp_path / "cache")
    ex.build(None, ProjectionParams("pca"))
    index = ex.neighbours(model)
    placed = Counter[str]()
    for it in held.items:
        session = Session()
        ref, _ = encode_upload(ex, session, str(Path(held.root) / it.path))
        near = [ex.corpus.items[n.ref.index].instrument for n in index.nearest(ref, "timbre", 5, session)]
        placed[it.instrument == Counter(near).most_common(1)[0][0]] += 1
    share = placed[True] / len(held.items)
    print(f"{model}: {placed[True]} of {len(held.items)} placed among their instrument")
    assert share >= FLOOR[model], f"only {placed[True]} of {len(held.items)} unseen-source notes land among their instrument"
