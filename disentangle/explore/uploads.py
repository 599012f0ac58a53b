"""Limits on the user's own sounds, checked from the file's header before any decoding.

Gradio refuses uploads over `MAX_UPLOAD_BYTES` (`launch(max_file_size=...)`).
Within that, a compressed or oddly shaped file can still decode to far more
samples than its size suggests (a 368 MB 8-channel 192 kHz file once took
+435 MB while decoding), so `check_upload` reads the header (channels, rate,
frames) and refuses what would decode to more than `MAX_DECODED_SAMPLES`,
or claims a rate no recording has, with a message naming the limit.
"""
from __future__ import annotations

from pathlib import Path

#: Largest upload Gradio accepts (said in the UI).
MAX_UPLOAD_MB = 20
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
#: Longest stretch read from an upload (the models hear 1-4 s anyway).
MAX_UPLOAD_SECONDS = 60.0
#: Samples (frames x channels) decoded at most: 60 s of 96 kHz stereo, ~46 MB as float32.
MAX_DECODED_SAMPLES = 60 * 96_000 * 2
MIN_RATE, MAX_RATE = 4_000, 384_000
MAX_CHANNELS = 8


class UploadRefused(ValueError):
    """An upload outside the limits; the message names the limit."""


def check_upload(path: str | Path, shown: str) -> list[str]:
    """Check an upload's header; return warnings (e.g. only its start is read).

    Raises UploadRefused for a rate outside MIN_RATE..MAX_RATE Hz, more than
    MAX_CHANNELS channels, or more than MAX_DECODED_SAMPLES samples in the part
    that would be read. Files soundfile cannot parse (e.g. MP3) are left to
    the decoder, which reads at most MAX_UPLOAD_SECONDS of them.
    """
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception:  # noqa: BLE001 (not a format soundfile parses: the decoder decides)
        return []
    rate, channels, frames = int(info.samplerate), int(info.channels), int(info.frames)
    if not MIN_RATE <= rate <= MAX_RATE:
        raise UploadRefused(f"{shown}: its header claims {rate} Hz; sample rates from {MIN_RATE} to "
                            f"{MAX_RATE} Hz are accepted")
    if not 1 <= channels <= MAX_CHANNELS:
        raise UploadRefused(f"{shown}: {channels} channels; at most {MAX_CHANNELS} are accepted")
    read = min(frames, int(MAX_UPLOAD_SECONDS * rate))
    if read * channels > MAX_DECODED_SAMPLES:
        raise UploadRefused(f"{shown}: {read / rate:.0f} s x {channels} channels at {rate} Hz is too much "
                            f"to decode (at most {MAX_DECODED_SAMPLES:,} samples); upload a shorter clip, "
                            "mono or at a lower rate")
    if frames > read:
        return [f"{shown} is {frames / rate:.0f} s long; only the first {MAX_UPLOAD_SECONDS:.0f} s are read"]
    return []


__all__ = [
    "MAX_DECODED_SAMPLES",
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_MB",
    "MAX_UPLOAD_SECONDS",
    "UploadRefused",
    "check_upload",
]
