"""Interface: features, encode/decode, latent operations, audio out (tiny model, no files)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent / "explore"))
import tiny_world

from disentangle.features.spectrogram import Normaliser
from disentangle.interface import Interface, pooled, to_int16


@pytest.fixture(scope="module")
def iface():
    model = tiny_world.make_model()
    model.normaliser = Normaliser("minmax", 0.0, 1.0)
    return Interface(model, device="cpu", gl_iters=4)


@pytest.fixture(scope="module")
def za_zb(iface):
    torch.manual_seed(1)
    x = torch.rand(2, tiny_world.FEATURES.n_bins, tiny_world.FEATURES.n_frames) * 2 - 1
    z = iface.encode(x)
    return {k: v[:1] for k, v in z.items()}, {k: v[1:] for k, v in z.items()}


def test_features_and_shapes(iface):
    audio = tiny_world._tone("saw", 60, 0.3)
    x = iface.features(audio)
    assert x.shape == (1, 24, 16)
    z = iface.encode(x)
    assert z["timbre"].shape == (1, 3) and z["pitch"].shape == (1, 2)
    assert z["motion"].shape == (1, 8, 2)  # local space: (B, T', D)
    assert iface.latent_shapes() == {"timbre": (3,), "pitch": (2,), "motion": (8, 2)}
    feats = iface.decode(z)
    assert feats.shape == (1, 24, 16)
    audio_out = iface.to_audio(feats)
    assert audio_out.shape == (1, tiny_world.FEATURES.n_samples) and audio_out.dtype == np.float32


def test_sweep_sets_one_dimension(iface, za_zb):
    za, _ = za_zb
    out = iface.sweep_latents(za, "timbre", 1, [-1.0, 0.0, 1.0])
    assert out["timbre"].shape == (3, 3)
    assert torch.allclose(out["timbre"][:, 1], torch.tensor([-1.0, 0.0, 1.0]))
    assert torch.allclose(out["timbre"][:, [0, 2]], za["timbre"][:, [0, 2]].expand(3, 2))
    assert torch.equal(out["pitch"], za["pitch"].expand(3, 2))
    local = iface.sweep_latents(za, "motion", 0, [0.5, 2.0])
    assert local["motion"].shape == (2, 8, 2)
    assert torch.all(local["motion"][1, :, 0] == 2.0)  # every frame
    assert torch.equal(local["motion"][:, :, 1], za["motion"][:, :, 1].expand(2, 8))
    assert iface.sweep(za, "timbre", 0, [0.0, 1.0]).shape == (2, 24, 16)
    with pytest.raises(ValueError):
        iface.sweep_latents(za, "timbre", 3, [0.0])


def test_interpolate_endpoints_and_single_space(iface, za_zb):
    za, zb = za_zb
    out = iface.interpolate_latents(za, zb, [0.0, 1.0, 2.0])
    for k in za:
        assert torch.allclose(out[k][0], za[k][0]) and torch.allclose(out[k][1], zb[k][0], atol=1e-6)
        assert torch.allclose(out[k][2], 2 * zb[k][0] - za[k][0], atol=1e-5)  # extrapolation
    only = iface.interpolate_latents(za, zb, [1.0], space="pitch")
    assert torch.allclose(only["pitch"][0], zb["pitch"][0])
    assert torch.equal(only["timbre"][0], za["timbre"][0])


def test_swap_and_toward(iface, za_zb):
    za, zb = za_zb
    s = iface.swap_latents(za, zb, "timbre")
    assert torch.equal(s["timbre"], zb["timbre"]) and torch.equal(s["pitch"], za["pitch"])
    target = torch.tensor([3.0, -3.0, 0.5])
    t = iface.toward_latents(za, "timbre", target, [0.0, 0.5, 1.0])
    assert torch.allclose(t["timbre"][0], za["timbre"][0])
    assert torch.allclose(t["timbre"][1], (za["timbre"][0] + target) / 2)
    assert torch.allclose(t["timbre"][2], target)
    assert torch.equal(t["pitch"], za["pitch"].expand(3, 2))
    assert iface.toward(za, "timbre", target, 1.0).shape == (1, 24, 16)


def test_sample_components(iface):
    means = iface.prior("timbre").means
    s = iface.sample_latents({"timbre": 2}, w=0.0, n=3, seed=0)
    assert torch.allclose(s["timbre"], means[2].expand(3, 3))
    assert s["motion"].shape == (3, 8, 2) and s["pitch"].shape == (3, 2)
    spread = iface.sample_latents({"timbre": 2}, w=1.0, n=200, seed=0)["timbre"]
    assert 0.3 < float(spread.std(0).mean()) < 0.7  # component std is 0.5
    a = iface.sample_latents({}, w=1.0, n=2, seed=5)
    b = iface.sample_latents({}, w=1.0, n=2, seed=5)
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError):
        iface.sample_latents({"timbre": 7})
    assert iface.prior_std("pitch").shape == (2,) and torch.all(iface.prior_std("pitch") == 1)


def test_grid_layout(iface, za_zb):
    za, _ = za_zb
    g = iface.grid_latents(za, "timbre", (0, 2), [-1.0, 1.0])
    assert g["timbre"].shape == (4, 3)
    assert g["timbre"][:, 0].tolist() == [-1.0, 1.0, -1.0, 1.0]
    assert g["timbre"][:, 2].tolist() == [-1.0, -1.0, 1.0, 1.0]


def test_pooled_and_int16():
    assert pooled(torch.ones(2, 5, 3)).shape == (2, 3)
    quiet = to_int16(np.full(4, 0.01, np.float32))
    assert quiet.dtype == np.int16 and int(quiet[0]) == 327  # true level, no peak normalisation
    assert int(to_int16(np.array([2.0], np.float32))[0]) == 32767  # clipped only beyond full scale
