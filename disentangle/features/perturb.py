"""Random perturbations for unsupervised disentanglement (Tanaka 2022/2025).

- `random_pitch_shift`: shift by an integer number of semitones drawn
  uniformly from [-semitones, semitones] (0 included), with pedalboard's
  PitchShift (time-stretch + resample; the length is kept).
- `random_timbre_distortion`: two (by default) distinct effects out of the
  nine pedalboard presets the papers list, each with randomised settings.

Both take a `numpy.random.Generator`, so a seeded generator gives the same
perturbation every time. Outputs keep the input's RMS level (effects such as
Distortion add a lot of gain), are finite and lie within [-1, 1] when the
input does, so the features of clean and perturbed clips stay comparable.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pedalboard is imported where it is used (it loads native code)
    from pedalboard import Plugin

#: The nine presets of Tanaka et al., by name.
EFFECTS = ("Chorus", "Distortion", "Phaser", "LadderFilter", "HighpassFilter",
           "LowpassFilter", "Reverb", "GSMFullRateCompressor", "Bitcrush")
#: Largest gain `match_level` applies (+20 dB): a filter that removes almost
#: everything must not turn its residue into loud noise.
MAX_GAIN = 10.0


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _make_effect(name: str, rng: np.random.Generator, sr: int) -> Plugin:
    """One pedalboard plugin with settings drawn from `rng` (ranges chosen by ear:
    audible but keeping the instrument recognisable, as the papers intend)."""
    import pedalboard as pb

    nyquist = 0.45 * sr
    if name == "Chorus":
        return pb.Chorus(rate_hz=rng.uniform(0.5, 5.0), depth=rng.uniform(0.1, 0.6),
                         centre_delay_ms=rng.uniform(3.0, 15.0), feedback=rng.uniform(0.0, 0.5),
                         mix=rng.uniform(0.3, 0.7))
    if name == "Distortion":
        return pb.Distortion(drive_db=rng.uniform(5.0, 25.0))
    if name == "Phaser":
        return pb.Phaser(rate_hz=rng.uniform(0.2, 3.0), depth=rng.uniform(0.3, 1.0),
                         centre_frequency_hz=_log_uniform(rng, 300.0, 3000.0),
                         feedback=rng.uniform(0.0, 0.7), mix=rng.uniform(0.3, 0.8))
    # Filter cut-offs stay where a note keeps most of its energy (high-pass
    # below ~1 kHz, low-pass above it): the papers' effects change the colour
    # of the instrument, they do not remove it.
    if name == "LadderFilter":
        mode, lo, hi = [(pb.LadderFilter.Mode.LPF12, 1000.0, 8000.0),
                        (pb.LadderFilter.Mode.LPF24, 1000.0, 8000.0),
                        (pb.LadderFilter.Mode.HPF12, 50.0, 1000.0),
                        (pb.LadderFilter.Mode.HPF24, 50.0, 1000.0),
                        (pb.LadderFilter.Mode.BPF12, 300.0, 3000.0),
                        (pb.LadderFilter.Mode.BPF24, 300.0, 3000.0)][int(rng.integers(6))]
        return pb.LadderFilter(mode=mode, cutoff_hz=_log_uniform(rng, lo, min(hi, nyquist)),
                               resonance=rng.uniform(0.0, 0.7), drive=rng.uniform(1.0, 3.0))
    if name == "HighpassFilter":
        return pb.HighpassFilter(cutoff_frequency_hz=_log_uniform(rng, 50.0, 1000.0))
    if name == "LowpassFilter":
        return pb.LowpassFilter(cutoff_frequency_hz=_log_uniform(rng, 1000.0, min(8000.0, nyquist)))
    if name == "Reverb":
        return pb.Reverb(room_size=rng.uniform(0.2, 0.9), damping=rng.uniform(0.2, 0.8),
                         wet_level=rng.uniform(0.1, 0.5), dry_level=rng.uniform(0.5, 0.9))
    if name == "GSMFullRateCompressor":
        qualities = [pb.Resample.Quality.Linear, pb.Resample.Quality.CatmullRom,
                     pb.Resample.Quality.WindowedSinc]
        return pb.GSMFullRateCompressor(quality=qualities[int(rng.integers(len(qualities)))])
    if name == "Bitcrush":
        return pb.Bitcrush(bit_depth=rng.uniform(4.0, 10.0))
    raise ValueError(f"unknown effect {name!r}; choose from {EFFECTS}")


def match_level(out: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Give `out` the RMS of `ref` (gain at most MAX_GAIN), replace non-finite
    samples by 0 and keep the peak within max(1, peak of ref).

    out, ref: (N,). Returns (N,) float32.
    """
    out = np.nan_to_num(np.asarray(out, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    ref_rms = float(np.sqrt(np.mean(np.square(ref, dtype=np.float64)))) if ref.size else 0.0
    out_rms = float(np.sqrt(np.mean(np.square(out, dtype=np.float64)))) if out.size else 0.0
    if out_rms > 1e-9 and ref_rms > 0:
        out = out * min(ref_rms / out_rms, MAX_GAIN)
    limit = max(1.0, float(np.max(np.abs(ref))) if ref.size else 1.0)
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    if peak > limit:
        out = out * (limit / peak)
    return out.astype(np.float32)


def pitch_shift(audio: np.ndarray, sr: int, semitones: float) -> np.ndarray:
    """Shift pitch by `semitones` keeping the duration. (N,) -> (N,) float32."""
    audio = np.asarray(audio, dtype=np.float32)
    if semitones == 0:
        return audio.copy()
    import pedalboard as pb

    out = pb.PitchShift(semitones=float(semitones))(audio, sr)
    out = out.reshape(-1)[: audio.size]
    if out.size < audio.size:
        out = np.pad(out, (0, audio.size - out.size))
    return match_level(out, audio)


def random_pitch_shift(audio: np.ndarray, sr: int, rng: np.random.Generator,
                       semitones: int = 7) -> np.ndarray:
    """Shift by L semitones, L uniform over the integers in [-semitones, semitones].

    audio: (N,) float mono. Returns (N,) float32.
    """
    shift = int(rng.integers(-semitones, semitones + 1))
    return pitch_shift(audio, sr, shift)


def timbre_distortion(audio: np.ndarray, sr: int, effects: list[Plugin]) -> np.ndarray:
    """Apply pedalboard `effects` in order, then restore the input's level.
    (N,) -> (N,) float32."""
    import pedalboard as pb

    audio = np.asarray(audio, dtype=np.float32)
    out = pb.Pedalboard(list(effects))(audio, sr, reset=True).reshape(-1)[: audio.size]
    if out.size < audio.size:
        out = np.pad(out, (0, audio.size - out.size))
    return match_level(out, audio)


def random_timbre_distortion(audio: np.ndarray, sr: int, rng: np.random.Generator,
                             n_effects: int = 2) -> np.ndarray:
    """Apply `n_effects` distinct effects drawn from EFFECTS, settings random.

    audio: (N,) float mono. Returns (N,) float32, same length and RMS level.
    """
    names = [EFFECTS[i] for i in rng.choice(len(EFFECTS), size=n_effects, replace=False)]
    return timbre_distortion(audio, sr, [_make_effect(n, rng, sr) for n in names])
