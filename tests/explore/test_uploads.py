"""Uploads are refused from their header, before decoding, with a message naming the limit;
accepted ones are kept at their recorded level."""
from __future__ import annotations

import struct

import numpy as np
import pytest
import soundfile as sf

from disentangle.explore import actions, uploads
from disentangle.explore.session import Session
from disentangle.explore.uploads import UploadRefused, check_upload


def wav_header(path, rate: int, channels: int, n_frames: int) -> None:
    """A PCM16 WAV whose header claims `rate` and `channels` (with n_frames of silence)."""
    data = b"\x00\x00" * channels * n_frames
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * channels * 2, channels * 2, 16)
    path.write_bytes(b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE" + b"fmt " + struct.pack("<I", 16)
                     + fmt + b"data" + struct.pack("<I", len(data)) + data)


def no_decoding(*a, **k):
    raise AssertionError("decoded although the header already says no")


def test_a_header_claiming_a_2ghz_rate_is_refused_by_name(tmp_path, explorer, monkeypatch):
    f = tmp_path / "odd.wav"
    wav_header(f, 2_000_000_000, 1, 100)
    monkeypatch.setattr("disentangle.audio.io.load_audio", no_decoding)
    with pytest.raises(UploadRefused, match=r"^mine: its header claims 2000000000 Hz; sample rates from 4000"):
        actions.encode_upload(explorer, Session(), str(f), "mine")


def test_too_many_samples_are_refused_before_decoding(tmp_path, explorer, monkeypatch):
    f = tmp_path / "wide.wav"
    sf.write(f, np.zeros((4000, 8), np.float32), 192_000)
    monkeypatch.setattr(uploads, "MAX_DECODED_SAMPLES", 8 * 3999)
    monkeypatch.setattr("disentangle.audio.io.load_audio", no_decoding)
    with pytest.raises(UploadRefused, match=r"8 channels at 192000 Hz is too much to decode"):
        actions.encode_upload(explorer, Session(), str(f), "wide")
    wav_header(tmp_path / "many.wav", 8000, 12, 10)
    with pytest.raises(UploadRefused, match=r"12 channels; at most 8"):
        check_upload(tmp_path / "many.wav", "many")


def test_long_files_are_read_in_part_and_unknown_formats_left_to_the_decoder(tmp_path):
    f = tmp_path / "long.wav"
    sf.write(f, np.zeros(61 * 4000, np.float32), 4000)
    assert check_upload(f, "long") == ["long is 61 s long; only the first 60 s are read"]
    (tmp_path / "x.mp3").write_bytes(b"ID3" + b"\x00" * 64)
    assert check_upload(tmp_path / "x.mp3", "x") == []



def test_an_upload_is_kept_at_its_level_and_placed_the_same_at_any_gain(tmp_path, world):
    """With a model that normalises loudness (`amplitude: mean_one`), the stored clip (what the
    user hears back) keeps the recorded level, and the same sound 20 dB louder gets the same codes."""
    import dataclasses

    import tiny_world

    from disentangle import load_model
    from disentangle.explore.explorer import Explorer
    from disentangle.explore.projection import ProjectionParams

    corpus, _ = world
    features = dataclasses.replace(tiny_world.FEATURES, amplitude="mean_one")
    ckpt = tiny_world.make_checkpoint(tmp_path / "level.pt", corpus, features=features)
    ex = Explorer({"tiny": load_model(ckpt)}, corpus, gl_iters=8).build(None, ProjectionParams("pca"))
    t = np.arange(int(0.4 * tiny_world.SR)) / tiny_world.SR
    tone = (np.sin(2 * np.pi * 330 * t) * np.exp(-4 * t)).astype(np.float32)
    session = Session()
    codes = []
    for gain in (0.05, 0.5):
        sf.write(tmp_path / f"tone{gain}.wav", gain * tone, tiny_world.SR, subtype="FLOAT")
        actions.encode_upload(ex, session, str(tmp_path / f"tone{gain}.wav"))
        clip = session.user[-1].clip
        assert abs(float(np.max(np.abs(clip))) - gain) < 0.1 * gain  # its level, not mean amplitude one
        _, latents = ex.entries["tiny"].encode_user(session.user[-1])
        codes.append(latents)
    for space in codes[0]:
        assert np.allclose(np.asarray(codes[0][space]), np.asarray(codes[1][space]), atol=1e-4), space
