"""Reading audio robustly: every failure names the file and the reason."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

#: Files longer than this are trimmed (with a warning) rather than decoded whole.
MAX_SECONDS = 600.0


class AudioError(ValueError):
    """An audio file that cannot be used; the message names the file and why."""

    def __init__(self, path: str | Path, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")


def load_audio(path: str | Path, sample_rate: int, *, max_seconds: float = MAX_SECONDS,
               allow_silent: bool = False) -> np.ndarray:
    """Decode `path` to mono float32 at `sample_rate`.

    Multichannel audio is down-mixed, other rates are resampled, audio past
    `max_seconds` is dropped with a warning. Raises `AudioError` for a missing,
    empty or undecodable file, NaN/inf samples, or (unless `allow_silent`)
    digital silence.

    Returns: (n_samples,) float32.
    """
    import soundfile as sf

    path = Path(path)
    if not path.exists():
        raise AudioError(path, "file not found")
    if path.is_dir():
        raise AudioError(path, "is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise AudioError(path, "file is empty (0 bytes)")
    try:
        info = sf.info(str(path))
        frames = info.frames
        native_sr = info.samplerate
        limit = int(max_seconds * native_sr)
        if frames > limit:
            warnings.warn(f"{path}: {frames / native_sr:.0f} s long; using the first {max_seconds:.0f} s")
        audio, native_sr = sf.read(str(path), frames=min(frames, limit), dtype="float32", always_2d=True)
    except AudioError:
        raise
    except Exception as exc:  # noqa: BLE001 - soundfile cannot read it (several error types): try librosa
        try:
            import librosa

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mono, native_sr = librosa.load(str(path), sr=None, mono=False, duration=max_seconds)
            audio = np.atleast_2d(mono).T.astype(np.float32)
        except Exception:  # noqa: BLE001 - audioread's errors derive from Exception only
            raise AudioError(path, f"not a readable audio file ({type(exc).__name__}: {exc})") from None
    if audio.shape[0] == 0:
        raise AudioError(path, "contains no samples (zero length)")
    if not np.all(np.isfinite(audio)):
        raise AudioError(path, "contains NaN or infinite samples")
    mono = audio.mean(axis=1) if audio.shape[1] > 1 else audio[:, 0]
    if native_sr != sample_rate:
        import librosa

        mono = librosa.resample(mono, orig_sr=native_sr, target_sr=sample_rate, res_type="soxr_hq")
    if not allow_silent and float(np.max(np.abs(mono))) < 1e-6:
        raise AudioError(path, "is silent (peak below -120 dBFS)")
    return np.ascontiguousarray(mono, dtype=np.float32)
