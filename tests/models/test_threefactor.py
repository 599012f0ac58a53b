"""Three-factor perturbation VAE (Tanaka 2022) at tiny capacity: every config
combination encodes/decodes with the right shapes, trains, and rebuilds."""
from __future__ import annotations

import pytest
import torch

from disentangle.features.config import FeatureConfig
from disentangle.models import REGISTRY, ThreeFactorConfig, ThreeFactorVAE
from disentangle.models.threefactor_nets import CepstralSplit, CyclicalKL, GlobalEncoder, dct_matrix

from .conftest import make_batch
from .helpers import check_rebuild, check_train_step

TINY = {"hidden": 6, "layers": 2, "timbre_dim": 4, "variation_dim": 3, "pitch_dim": 2, "cepstrum_cutoff": 4}
COMBOS = [
    {},
    {"pitch_encoder": "conditional"},
    {"cepstrum": False},
    {"pitch_encoder": "conditional", "cepstrum": False, "layers": 1},
    {"use_variation": False},
    {"use_timbre": False},
    {"use_timbre": False, "pitch_encoder": "conditional"},
    {"use_variation": False, "pitch_encoder": "conditional"},
    {"noise_std": 0.1, "perturb_dropout": 0.5},
    {"perturb": False, "kl_period": 0},
    {"timbre_pool": "level"},
]


def perturbed_batch(features: FeatureConfig, b: int = 4, seed: int = 0) -> dict:
    batch = make_batch(features, b, seed)
    g = torch.Generator().manual_seed(seed + 1)
    batch["x_pitch"] = torch.rand(batch["x"].shape, generator=g) * 2 - 1
    batch["x_timbre"] = torch.rand(batch["x"].shape, generator=g) * 2 - 1
    return batch


def build(features, label_maps, name: str = "threefactor", **kw):
    cls = REGISTRY[name]
    return cls(cls.config_class(**{**TINY, **kw}), features, label_maps)


def check_local_shapes(model, x: torch.Tensor) -> None:
    """encode on clean x and decode of the means: shapes by scope."""
    model.eval()
    b, _, t = x.shape
    with torch.no_grad():
        post = model.encode(x)
        assert [s.name for s in model.spaces] == list(post)
        for s in model.spaces:
            want = (b, s.size) if s.scope == "global" else (b, t, s.size)
            assert post[s.name].mean.shape == want, s.name
            assert post[s.name].logvar.shape == want
            assert torch.isfinite(post[s.name].mean).all()
        out = model.decode({k: p.mean for k, p in post.items()})
    assert out.shape == x.shape and torch.isfinite(out).all()


def test_registered_and_wants_perturbations():
    assert REGISTRY["threefactor"] is ThreeFactorVAE
    assert ThreeFactorVAE.wants_perturbed_audio
    assert not REGISTRY["gmvae"].wants_perturbed_audio


@pytest.mark.parametrize("kw", COMBOS)
@pytest.mark.parametrize("kind", ["mel", "stft"])
def test_every_combination(kw, kind, label_maps):
    features = FeatureConfig(kind=kind, n_fft=30, n_mels=12, n_frames=7)  # stft: 16 bins
    model = build(features, label_maps, **kw)
    batch = perturbed_batch(features)
    check_local_shapes(model, batch["x"])
    logs = check_train_step(model, batch, epoch=3)
    assert {"loss", "recon/nll", "recon/mse", "kl/pitch"} <= set(logs)
    assert ("kl/timbre" in logs) == model.config.use_timbre
    assert ("kl/variation" in logs) == model.config.use_variation
    check_rebuild(model, batch)


def test_spaces_and_ablation_labels(features, label_maps):
    spaces = {s.name: s for s in build(features, label_maps).spaces}
    assert (spaces["timbre"].scope, spaces["timbre"].label) == ("global", "instrument")
    assert (spaces["variation"].scope, spaces["variation"].label) == ("local", "dynamics")
    assert (spaces["pitch"].scope, spaces["pitch"].label) == ("local", "pitch")
    no_t = {s.name: s for s in build(features, label_maps, use_timbre=False).spaces}
    assert set(no_t) == {"variation", "pitch"} and no_t["variation"].label == "instrument"
    assert [s.name for s in build(features, label_maps, use_variation=False).spaces] == ["timbre", "pitch"]
    with pytest.raises(ValueError):
        build(features, label_maps, use_timbre=False, use_variation=False)


def test_encoders_see_the_perturbed_copies(features, label_maps):
    """Training: timbre reads x_pitch (pitch-shifted), pitch reads x_timbre; clean x
    only as the reconstruction target. Without copies, every encoder reads x."""
    model = build(features, label_maps, cepstrum=False)
    seen = {}
    model.timbre_encoder.register_forward_hook(lambda m, a, o: seen.__setitem__("timbre", a[0]))
    model.pitch_encoder.register_forward_hook(lambda m, a, o: seen.__setitem__("pitch", a[0]))
    batch = perturbed_batch(features)
    model.train()
    model.loss(batch, 0)
    assert torch.equal(seen["timbre"], batch["x_pitch"]) and torch.equal(seen["pitch"], batch["x_timbre"])
    model.encode(batch["x"])
    assert torch.equal(seen["timbre"], batch["x"]) and torch.equal(seen["pitch"], batch["x"])


def test_independent_pitch_ignores_timbre_input(features, label_maps):
    """The independent pitch posterior depends on g(X) only; the conditional one does not."""
    batch = perturbed_batch(features)
    other = perturbed_batch(features, seed=5)["x"]
    for mode, same in (("independent", True), ("conditional", False)):
        model = build(features, label_maps, pitch_encoder=mode).eval()
        with torch.no_grad():
            a = model.infer(batch["x"], batch["x"], sample=False)[0]["pitch"].mean
            b = model.infer(other, batch["x"], sample=False)[0]["pitch"].mean
        assert torch.equal(a, b) == same


def test_validation_scores_the_full_bound(features, label_maps):
    model = build(features, label_maps)
    batch = perturbed_batch(features)
    model.eval()
    with torch.no_grad():
        assert float(model.loss(batch, 0)["kl/weight"]) == 1.0  # eval: not annealed
    model.train()
    assert float(model.loss(batch, 0)["kl/weight"]) == 0.0


def test_cyclical_kl_schedule():
    s = CyclicalKL(period=10, ramp=0.5)
    assert [s(e) for e in range(12)] == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.2]
    assert CyclicalKL(period=0, value=0.3)(7) == 0.3
    assert CyclicalKL(period=4, ramp=1.0, value=2.0)(2) == 1.0


def test_learning_rate_decays_per_epoch(features, label_maps):
    model = build(features, label_maps, lr_decay=0.1)
    opts = model.make_optimizers(1.0)
    batch = perturbed_batch(features)
    model.train_step(batch, opts, 0)
    model.train_step(batch, opts, 0)
    assert opts["main"].param_groups[0]["lr"] == pytest.approx(1.0)
    model.train_step(batch, opts, 2)
    assert opts["main"].param_groups[0]["lr"] == pytest.approx(0.81)
    assert int(model.state_dict()["lr_epoch"]) == 2  # survives a checkpoint


def test_cepstral_split_sums_to_input_and_smooths():
    x = torch.randn(2, 12, 5, dtype=torch.float32)
    for kind, bins in (("mel", 12), ("stft", 12)):
        env, fine = CepstralSplit(kind, bins, 3)(x)
        assert torch.allclose(env + fine, x, atol=1e-5)
    d = dct_matrix(12)
    assert torch.allclose(d @ d.T, torch.eye(12), atol=1e-5)
    # a slow cosine along frequency is envelope, a fast one fine structure
    slow, fast = (3.0 * d[1]).view(1, 12, 1), (2.0 * d[9]).view(1, 12, 1)
    env, fine = CepstralSplit("mel", 12, 4)(slow + fast)
    assert torch.allclose(env, slow, atol=1e-5) and torch.allclose(fine, fast, atol=1e-5)


def test_paper_defaults():
    cfg = ThreeFactorConfig()
    assert (cfg.hidden, cfg.layers, cfg.timbre_dim, cfg.variation_dim, cfg.pitch_dim) == (800, 3, 64, 64, 32)
    assert (cfg.sigma2, cfg.kl_period, cfg.cepstrum_cutoff, cfg.lr_decay) == (0.5, 10, 100, 1e-4)
    assert cfg.pitch_encoder == "independent" and cfg.perturb_cache == 0


class _FixedStates(torch.nn.Module):
    """Stands in for the BiGRU stack: returns given (B, T, 2H) states."""

    def __init__(self, h: torch.Tensor):
        super().__init__()
        self.h = h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.h


def test_level_pool_gives_silent_frames_no_weight():
    torch.manual_seed(0)
    enc = GlobalEncoder(n_bins=5, hidden=3, layers=1, latent=2, pool="level")
    x = torch.rand(2, 5, 8) * 2 - 1
    x[:, :, 5:] = -1.0  # the last three frames are silence at the min-max floor
    h = torch.randn(2, 8, 6)
    enc.rnn = _FixedStates(h)
    a = enc(x).mean
    h2 = h.clone()
    h2[:, 5:] = 10.0  # whatever the states of silent frames are
    enc.rnn = _FixedStates(h2)
    assert torch.allclose(enc(x).mean, a, atol=1e-4)
    # ...while the plain mean moves with them
    mean = GlobalEncoder(n_bins=5, hidden=3, layers=1, latent=2, pool="mean")
    mean.head = enc.head
    mean.rnn = _FixedStates(h)
    b = mean(x).mean
    mean.rnn = _FixedStates(h2)
    assert not torch.allclose(mean(x).mean, b, atol=1e-3)
    # a louder frame weighs more: the pooled state leans towards it
    w = torch.relu(x.mean(1) + 1) + 1e-6
    want = enc.head((h * w.unsqueeze(-1)).sum(1) / w.sum(1, keepdim=True)).mean
    enc.rnn = _FixedStates(h)
    assert torch.allclose(enc(x).mean, want, atol=1e-6)


def test_level_pool_of_all_silence_is_the_plain_mean():
    enc = GlobalEncoder(n_bins=5, hidden=3, layers=1, latent=2, pool="level")
    x = -torch.ones(1, 5, 4)
    h = torch.randn(1, 4, 6)
    enc.rnn = _FixedStates(h)
    want = enc.head(h.mean(1)).mean
    assert torch.isfinite(enc(x).mean).all() and torch.allclose(enc(x).mean, want, atol=1e-5)


def test_unknown_pool_is_refused():
    with pytest.raises(ValueError, match="pool"):
        GlobalEncoder(n_bins=5, hidden=3, layers=1, latent=2, pool="max")  # type: ignore[arg-type]
