"""DSAE / TS-DSAE / J-DSAE at tiny capacity: shapes, losses per stage, the stage switch, rebuilds."""
from __future__ import annotations

import copy

import pytest
import torch

from disentangle.configs import load_config
from disentangle.features.config import FeatureConfig
from disentangle.models import REGISTRY, DSAEConfig
from disentangle.models.dsae import STAGE_ONE_OFFSET
from disentangle.models.dsae_nets import diag_gaussian_kl, random_pairing

FEATURES = FeatureConfig(n_mels=12, n_frames=9)
LABELS = {"instrument": ["a", "b", "c"], "pitch": ["60", "62"]}
B, F, T = 4, FEATURES.n_bins, FEATURES.n_frames


def tiny(name: str = "jdsae", **kw) -> torch.nn.Module:
    defaults = {"global_dim": 3, "local_dim": 2, "hidden": (8,), "prior_hidden": 4, "prior_layers": 2,
                    "teacher_epochs": 2, "decoder_state": 5}
    defaults.update(kw)
    return REGISTRY[name](DSAEConfig(**defaults), FEATURES, LABELS)


def batch(seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    return {"x": torch.randn(B, F, T, generator=g),
            "labels": {"instrument": torch.tensor([0, 1, 2, 0]), "pitch": torch.tensor([0, 1, -1, 0])},
            "index": torch.arange(B)}


def test_registered_variants_and_spaces():
    for name in ("dsae", "tsdsae", "jdsae"):
        m = tiny(name)
        assert m.name == name and m.describe()["variant"] == name
        assert [(s.name, s.scope, s.label) for s in m.spaces] == [
            ("timbre", "global", "instrument"), ("pitch", "local", "pitch")]


@pytest.mark.parametrize("decoder", ["factorised", "autoregressive"])
def test_encode_decode_shapes(decoder):
    m = tiny(decoder=decoder, teacher_epochs=0, name="dsae")
    post = m.encode(batch()["x"])
    assert post["timbre"].mean.shape == (B, 3) and post["timbre"].logvar.shape == (B, 3)
    assert post["pitch"].mean.shape == (B, T, 2)
    out = m.decode({k: p.mean for k, p in post.items()})
    assert out.shape == (B, F, T) and torch.isfinite(out).all()
    assert m.reconstruct(batch()["x"]).shape == (B, F, T)
    assert m.sample_local(2).shape == (2, T, 2)


@pytest.mark.parametrize("decoder", ["factorised", "autoregressive"])
def test_stage_one_masks_z_and_freezes_local_branch(decoder):
    m = tiny("jdsae", decoder=decoder)
    m.train()
    terms = m.loss(batch(), epoch=0)
    assert m.stage == 1 and not bool(m.teacher_ready)
    assert all(torch.isfinite(v) for v in terms.values())
    assert float(terms["select/loss"]) == pytest.approx(float(terms["loss"].detach()) + STAGE_ONE_OFFSET)
    terms["loss"].backward()
    assert all(p.grad is None for p in m.local_encoder.parameters())
    assert all(p.grad is None for p in m.prior.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in m.global_encoder.parameters())
    # The teacher decodes p(x | 0, v): changing z changes nothing.
    z = {"timbre": torch.randn(B, 3), "pitch": torch.randn(B, T, 2)}
    z0 = {"timbre": z["timbre"], "pitch": torch.zeros(B, T, 2)}
    torch.testing.assert_close(m.decode(z), m.decode(z0))


def test_stage_switch_copies_and_freezes_the_teacher():
    m = tiny("jdsae")
    m.train()
    opt = m.make_optimizers(1e-2)
    for epoch in (0, 1):
        m.train_step(batch(epoch), opt, epoch)
    assert not bool(m.teacher_ready)
    enc_at_c = copy.deepcopy(m.global_encoder.state_dict())
    dec_at_c = copy.deepcopy(m.decoder.state_dict())
    terms = m.train_step(batch(2), opt, 2)            # first step of epoch C = 2
    assert bool(m.teacher_ready) and m.stage == 2 and terms["stage"] == 2.0
    assert "jacobian/delta" in terms
    assert terms["select/loss"] == pytest.approx(terms["loss"] - terms["jacobian/delta"], rel=1e-5)
    for k, v in m.teacher_encoder.state_dict().items():
        torch.testing.assert_close(v, enc_at_c[k])
    for k, v in m.teacher_decoder.state_dict().items():
        torch.testing.assert_close(v, dec_at_c[k])
    assert not any(p.requires_grad for p in m.teacher_encoder.parameters())
    assert not any(p.requires_grad for p in m.teacher_decoder.parameters())
    for _ in range(2):
        m.train_step(batch(3), opt, 3)
    # The student moved on, the teacher stayed at epoch C.
    moved = any(not torch.equal(v, enc_at_c[k]) for k, v in m.global_encoder.state_dict().items())
    assert moved
    for k, v in m.teacher_encoder.state_dict().items():
        torch.testing.assert_close(v, enc_at_c[k])
    # Stage 2 trains the local branch.
    opt["main"].zero_grad(set_to_none=True)
    m.loss(batch(), 3)["loss"].backward()
    assert any(p.grad is not None for p in m.local_encoder.parameters())
    assert any(p.grad is not None for p in m.prior.parameters())


def test_eval_mode_never_switches_stage():
    m = tiny("tsdsae").eval()
    with torch.no_grad():
        terms = m.loss(batch(), epoch=10)
    assert not bool(m.teacher_ready) and float(terms["stage"]) == 1.0


@pytest.mark.parametrize("switched", [False, True])
def test_state_dict_round_trip_before_and_after_c(switched):
    m = tiny("jdsae")
    m.train()
    opt = m.make_optimizers(1e-2)
    for epoch in range(3 if switched else 1):
        m.train_step(batch(epoch), opt, epoch)
    twin = tiny("jdsae")
    twin.load_state_dict(m.state_dict())
    assert bool(twin.teacher_ready) == switched and twin.stage == m.stage
    x = batch()["x"]
    m.eval(), twin.eval()
    torch.testing.assert_close(twin.reconstruct(x), m.reconstruct(x))
    # Resuming before C: the copy still happens, at C, from the resumed weights.
    if not switched:
        twin.train()
        twin_opt = twin.make_optimizers(1e-2)
        twin.train_step(batch(1), twin_opt, 1)
        enc = copy.deepcopy(twin.global_encoder.state_dict())
        twin.loss(batch(2), 2)
        for k, v in twin.teacher_encoder.state_dict().items():
            torch.testing.assert_close(v, enc[k])


@pytest.mark.parametrize("name,key", [("tsdsae", "swap/vswap_v"), ("jdsae", "jacobian/delta")])
@pytest.mark.parametrize("decoder", ["factorised", "autoregressive"])
def test_regularisers_finite_and_differentiable(name, key, decoder):
    m = tiny(name, decoder=decoder)
    m.train()
    m.loss(batch(), 2)                                  # switch to stage 2
    with torch.no_grad():                               # a teacher different from the student
        for p in m.global_encoder.parameters():
            p.add_(0.3 * torch.randn_like(p))
        for p in m.decoder.parameters():
            p.add_(0.3 * torch.randn_like(p))
    terms = m.loss(batch(), 2)
    names = ["swap/vswap_v", "swap/vswap_z", "swap/zswap_v", "swap/zswap_z"] if name == "tsdsae" \
        else ["jacobian/delta"]
    for k in names:
        assert torch.isfinite(terms[k]) and float(terms[k].detach()) >= 0
        assert terms[k].requires_grad
    assert float(terms[key].detach()) > 0
    grads = torch.autograd.grad(sum(terms[k] for k in names),
                                [p for p in m.decoder.parameters()], allow_unused=True)
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    other = "jacobian/delta" if name == "tsdsae" else "swap/vswap_v"
    assert other not in terms


def test_plain_dsae_has_no_teacher_and_uses_z_from_the_start():
    m = tiny("dsae", teacher_epochs=0)
    assert m.teacher_encoder is None and m.stage == 2
    terms = m.loss(batch(), 0)
    assert set(terms) >= {"recon/mse", "kl/pitch", "kl/timbre", "loss"}
    assert float(terms["select/loss"]) == pytest.approx(float(terms["loss"].detach()))
    with pytest.raises(ValueError, match="teacher"):
        tiny("jdsae", teacher_epochs=0)


def test_kl_and_pairing_helpers():
    m, lv = torch.randn(5, 3), torch.randn(5, 3)
    assert torch.allclose(diag_gaussian_kl(m, lv, m, lv), torch.zeros(5), atol=1e-6)
    ref = torch.distributions.kl_divergence(
        torch.distributions.Normal(m, (0.5 * lv).exp()),
        torch.distributions.Normal(torch.zeros(3), torch.ones(3))).sum(-1)
    torch.testing.assert_close(diag_gaussian_kl(m, lv, torch.zeros(3), torch.zeros(3)), ref)
    for n in (2, 3, 7):
        j = random_pairing(n, generator=torch.Generator().manual_seed(n))
        assert sorted(j.tolist()) == list(range(n)) and (j != torch.arange(n)).all()


def test_rebuild_from_config_gives_identical_outputs():
    a, b = tiny("tsdsae"), tiny("tsdsae")
    x = batch()["x"]
    a.eval(), b.eval()
    torch.testing.assert_close(a.reconstruct(x), b.reconstruct(x))
    for k, v in a.state_dict().items():
        torch.testing.assert_close(v, b.state_dict()[k])


def test_checkpoint_round_trip_keeps_variant(tmp_path):
    from disentangle.checkpoint import load_model, save_checkpoint
    from disentangle.features.spectrogram import Normaliser

    m = tiny("jdsae")
    m.train()
    m.loss(batch(), 2)
    path = save_checkpoint(tmp_path / "j.pt", m, Normaliser("none", 0.0, 1.0))
    loaded = load_model(path)
    assert loaded.name == "jdsae" and bool(loaded.teacher_ready) and loaded.stage == 2
    m.eval()
    torch.testing.assert_close(loaded.reconstruct(batch()["x"]), m.reconstruct(batch()["x"]))


@pytest.mark.parametrize("name", ["dsae-cpu", "tsdsae-cpu", "jdsae-cpu", "dsae-paper", "tsdsae-paper",
                                  "jdsae-paper", "tsdsae-ar-paper", "jdsae-ar-paper"])
def test_shipped_configs_build(name):
    run = load_config(name)
    model = REGISTRY[run.model](run.model_config, run.features, LABELS)
    assert model.name == run.model
    assert run.train.monitor == "select/loss"
    if run.model != "dsae":
        assert run.model_config.teacher_epochs > 0


def test_standardiser_fits_on_first_training_batch_then_stays():
    m = tiny("jdsae")
    assert not bool(m.scaler.ready)
    m.eval()
    m.loss(batch(), 0)                                  # eval: no fit
    assert not bool(m.scaler.ready)
    m.train()
    b = batch()
    b["x"] = 5.0 + 3.0 * b["x"]
    m.loss(b, 0)
    frames = b["x"].transpose(1, 2).reshape(-1, F)
    torch.testing.assert_close(m.scaler.mean, frames.mean(0))
    torch.testing.assert_close(m.scaler.std, frames.std(0))
    m.loss(batch(1), 0)                                 # later batches leave it alone
    torch.testing.assert_close(m.scaler.mean, frames.mean(0))
    y = torch.randn(2, T, F)
    torch.testing.assert_close(m.scaler.inverse(m.scaler(y)), y)
    twin = tiny("jdsae")
    twin.load_state_dict(m.state_dict())
    assert bool(twin.scaler.ready)
    assert tiny("jdsae", standardise=False).scaler is None
