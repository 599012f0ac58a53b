"""SoundFont rendering: the default font, clear errors, levels, bend and expression.

Every renderer test runs on both synthesizers (FluidSynth where libfluidsynth is installed;
`make sources` installs it).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from disentangle.data.soundfont import (
    Event,
    SoundFontError,
    SoundFontRenderer,
    default_soundfont,
    resolve_soundfont,
    trim_trailing_silence,
)
from disentangle.data.sources import engine_missing
from disentangle.data.synths import ENGINES

SR = 22050


@pytest.fixture(scope="module", params=ENGINES)
def renderer(request) -> SoundFontRenderer:
    if (why := engine_missing(request.param)) is not None:
        pytest.skip(why)
    return SoundFontRenderer(None, SR, engine=request.param)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def f0(x: np.ndarray) -> float:
    import librosa

    return float(np.median(librosa.yin(x, fmin=100, fmax=2000, sr=SR, frame_length=2048)))


def test_default_soundfont_is_shipped_by_pretty_midi():
    path = default_soundfont()
    assert path.name == "TimGM6mb.sf2" and path.is_file()
    assert "pretty_midi" in str(path)


def test_missing_soundfont_names_the_file(tmp_path):
    missing = tmp_path / "nope.sf2"
    with pytest.raises(SoundFontError, match="nope.sf2.*not found"):
        SoundFontRenderer(missing)


@pytest.mark.parametrize("name,content,reason", [
    ("broken.sf2", b"RIFF not really a soundfont" * 10, "not a readable SoundFont"),
    ("empty.sf3", b"", "empty"),
    ("font.txt", b"hello", "extension"),
])
def test_unusable_soundfont_files_are_refused(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SoundFontError, match=reason) as err:
        SoundFontRenderer(path)
    assert name in str(err.value)


def test_folder_is_not_a_soundfont(tmp_path):
    with pytest.raises(SoundFontError, match="folder"):
        resolve_soundfont(tmp_path)


def test_preset_names(renderer):
    assert renderer.preset_name(40) == "Violin"
    assert renderer.has_preset(73)


def test_note_is_held_then_released_and_trimmed(renderer):
    audio = renderer.render_note(40, 69, 80, hold_s=0.5)
    assert audio.dtype == np.float32
    assert 0.5 * SR < len(audio) < 2.5 * SR  # release tail, capped
    assert abs(audio[-1]) >= 1.0 / 32768  # trailing digital silence removed
    assert abs(f0(audio[: SR // 2]) - 440.0) < 10.0


def test_velocities_give_distinct_levels(renderer):
    levels = [rms(renderer.render_note(40, 69, v, 0.5)[: SR // 2]) for v in (30, 80, 120)]
    assert levels[0] * 1.5 < levels[1] and levels[1] * 1.2 < levels[2]


def test_render_is_independent_of_previous_calls(renderer):
    first = renderer.render_note(73, 72, 80, 0.25)
    renderer.render_events(73, [Event(0.0, "on", 60, 100)], 0.3,
                           control=[("bend", 0, np.full(200, 1.0)), ("cc", 11, np.full(200, 20.0))])
    assert np.array_equal(first, renderer.render_note(73, 72, 80, 0.25))


def test_pitch_bend_and_expression(renderer):
    n_blocks = int(np.ceil(0.6 * SR / 128))
    events = [Event(0.0, "on", 69, 100), Event(0.55, "off", 69)]
    plain = renderer.render_events(73, events, 0.6)
    bent = renderer.render_events(73, events, 0.6, control=[("bend", 0, np.full(n_blocks, 1.0))])
    quiet = renderer.render_events(73, events, 0.6, control=[("cc", 11, np.full(n_blocks, 30.0))])
    assert len(plain) == len(bent) == round(0.6 * SR)
    ratio = f0(bent[2048:10000]) / f0(plain[2048:10000])
    assert abs(12 * np.log2(ratio) - 1.0) < 0.2  # +1 semitone
    assert rms(quiet) < 0.3 * rms(plain)


def test_trim_trailing_silence():
    x = np.array([0.0, 0.5, -0.2, 1e-7, 0.0], np.float32)
    assert trim_trailing_silence(x).tolist() == pytest.approx([0.0, 0.5, -0.2])
    assert trim_trailing_silence(np.zeros(4, np.float32)).size == 0


def test_unknown_preset_is_an_error(tmp_path, renderer):
    # Bank 5 does not exist in TimGM6mb: selecting it must fail loudly, naming the font.
    with pytest.raises(SoundFontError, match=Path(renderer.path).name):
        renderer.render_note(0, 60, 80, 0.1, bank=5)
