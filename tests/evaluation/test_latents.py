"""Batched encode/decode helpers: shapes, batching invariance, mode restored."""
from __future__ import annotations

import numpy as np
import torch
from eval_fixtures import HALF, N_FRAMES, NOISE, OracleModel

from disentangle.evaluation.latents import decode_batched, encode_dataset, reconstruction_mse


def test_encode_dataset_shapes_and_batching(synthetic):
    model = OracleModel(synthetic)
    x = torch.from_numpy(synthetic.x)
    full = encode_dataset(model, x, batch_size=256)
    small = encode_dataset(model, x, batch_size=7)
    assert set(full) == {"timbre", "pitch"}
    assert full["timbre"].shape == (len(x), HALF)
    for name in full:
        np.testing.assert_allclose(full[name], small[name], atol=1e-6)
    np.testing.assert_allclose(full["timbre"], synthetic.x[:, :HALF].mean(-1), atol=1e-5)


def test_local_space_averaged_unless_keep_time(synthetic):
    model = OracleModel(synthetic, mode="local")
    x = synthetic.x[:10]
    avg = encode_dataset(model, x)
    seq = encode_dataset(model, x, keep_time=True)
    assert avg["pitch"].shape == (10, HALF)
    assert seq["pitch"].shape == (10, N_FRAMES, HALF)
    assert seq["timbre"].shape == (10, HALF)  # global spaces never get a time axis
    np.testing.assert_allclose(seq["pitch"].mean(axis=1), avg["pitch"], atol=1e-6)


def test_train_mode_restored(synthetic):
    model = OracleModel(synthetic)
    model.train()
    encode_dataset(model, synthetic.x[:4])
    assert model.training
    model.eval()
    encode_dataset(model, synthetic.x[:4])
    assert not model.training


def test_reconstruction_mse_is_the_noise_the_model_drops(synthetic):
    model = OracleModel(synthetic)
    mse = reconstruction_mse(model, synthetic.x, batch_size=13)
    # The oracle reconstructs the time-constant pattern exactly, so only the
    # i.i.d. noise (variance NOISE**2, minus the part the time mean keeps) is left.
    expected = NOISE ** 2 * (1 - 1 / N_FRAMES)
    assert abs(mse - expected) < 0.15 * expected
    # A decoder that forgets timbre loses half the bins' pattern: much worse.
    assert reconstruction_mse(OracleModel(synthetic, mode="deaf"), synthetic.x) > 10 * mse


def test_decode_batched_roundtrip(synthetic):
    model = OracleModel(synthetic)
    z = encode_dataset(model, synthetic.x[:20])
    y = decode_batched(model, z, batch_size=6)
    assert y.shape == (20, 16, N_FRAMES)
    assert float(((y - torch.from_numpy(synthetic.x[:20])) ** 2).mean()) < 2 * NOISE ** 2
