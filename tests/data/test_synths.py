"""The two synthesizers: one level, clear errors, and the render TinySoundFont gets wrong."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from disentangle.data.quality import WEAK_SHARE, harmonic_share
from disentangle.data.soundfont import SoundFontError, SoundFontRenderer, default_soundfont
from disentangle.data.sources import SOURCES, engine_missing, locate_sources
from disentangle.data.synths import open_synth

SR = 22050
needs_fluidsynth = pytest.mark.skipif(engine_missing("fluidsynth") is not None,
                                      reason=str(engine_missing("fluidsynth")))


def db(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(a, dtype=np.float64)) / np.mean(np.square(b, dtype=np.float64))))


def test_unknown_engine_is_named():
    with pytest.raises(ValueError, match="unknown synthesizer 'nope'"):
        open_synth("nope", default_soundfont(), SR)


@needs_fluidsynth
def test_engines_agree_on_level_at_mezzo_forte():
    """FLUID_GAIN matches FluidSynth to TinySoundFont at velocity 80 (on TimGM6mb: median -1.3 dB)."""
    tiny, fluid = SoundFontRenderer(None, SR), SoundFontRenderer(None, SR, engine="fluidsynth")
    gaps = [db(fluid.render_note(p, 60, 80, 0.5)[: SR // 2], tiny.render_note(p, 60, 80, 0.5)[: SR // 2])
            for p in (0, 40, 56, 71, 73)]
    assert abs(float(np.median(gaps))) < 4.0, gaps


@needs_fluidsynth
def test_fluidsynth_refuses_a_broken_file_by_name(tmp_path):
    bad = tmp_path / "broken.sf2"
    bad.write_bytes(b"RIFF\x10\x00\x00\x00sfbkLIST" + bytes(64))
    with pytest.raises(SoundFontError, match="broken.sf2"):
        SoundFontRenderer(bad, SR, engine="fluidsynth")


def test_a_source_whose_synthesizer_is_missing_is_reported(monkeypatch):
    monkeypatch.setitem(sys.modules, "fluidsynth", None)  # import fails as without libfluidsynth
    assert "libfluidsynth3" in str(engine_missing("fluidsynth"))
    name = next(n for n, s in SOURCES.items() if s.engine == "fluidsynth")
    if SOURCES[name].locate() is None:
        pytest.skip(f"{name} is not installed")
    found, missing = locate_sources([name, "timgm6mb"])
    assert [s.name for s in found] == ["timgm6mb"] and "FluidSynth" in missing[name]


def test_musescore_piano_sounds_at_its_pitch():
    """TinySoundFont 0.3.7 plays this bank's piano above ~E5 as a thud without its pitch
    (harmonic share 0.00-0.28); the source's own synthesizer must not."""
    found, missing = locate_sources(["musescore-lite"])
    if missing:
        pytest.skip(missing["musescore-lite"])
    src = found[0]
    renderer = SoundFontRenderer(src.path, SR, engine=src.engine)
    for pitch in (84, 96, 100):
        audio = renderer.render_note(0, pitch, 80, 0.5)
        assert harmonic_share(audio, SR, pitch) > 2 * WEAK_SHARE, pitch
