"""MD-GMVAE (Dal Ri 2025) and the MD-VAE baseline at tiny capacity."""
from __future__ import annotations

import pytest
import torch

from disentangle.models import MDGMVAE, REGISTRY, MDGMVAEConfig

from .helpers import check_rebuild, check_shapes, check_train_step

TINY = {"width": 2, "sub_channels": 4, "head_hidden": 8, "decoder_hidden": 8}
COMBOS = [
    {},
    {"prior": "isotropic"},
    {"removers": False},
    {"prior": "isotropic", "removers": False, "huber_weight": 0.0},
    {"descriptors": ("timbre", "pitch"), "timbre_dim": 3, "pitch_dim": 2},
    {"adversarial_start": 0, "adversarial_ramp": 1, "beta_ramp_epochs": 1},
    {"freq_strides": (2, 2, 1), "pitch_dim": 6, "classifier_weight": 1.0},
]


def build(features, label_maps, **kw) -> MDGMVAE:
    return MDGMVAE(MDGMVAEConfig(**{**TINY, **kw}), features, label_maps)


def test_registered():
    assert REGISTRY["mdgmvae"] is MDGMVAE


@pytest.mark.parametrize("kw", COMBOS)
def test_every_combination(kw, features, label_maps, batch):
    model = build(features, label_maps, **kw)
    check_shapes(model, batch)
    logs = check_train_step(model, batch, epoch=3)
    for d in model.descriptors:
        assert f"kl/{d}" in logs and f"ce/{d}" in logs
    assert any(k.startswith("remover/") for k in logs) == (model.removers is not None)
    assert bool(model.priors()) == (model.config.prior == "gmm")
    check_rebuild(model, batch)


def test_paper_defaults(features, label_maps):
    model = build(features, label_maps)
    assert [(s.name, s.size, s.label) for s in model.spaces] == [
        ("timbre", 8, "instrument"), ("pitch", 4, "pitch"), ("dynamics", 4, "dynamics"),
        ("duration", 4, "duration")]


def test_non_square_input(label_maps):
    from disentangle.features.config import FeatureConfig

    from .conftest import make_batch
    features = FeatureConfig(n_mels=24, n_frames=20)
    check_shapes(build(features, label_maps), make_batch(features))


def test_encode_mean_is_tanh_of_mu(features, label_maps, batch):
    model = build(features, label_maps).eval()
    with torch.no_grad():
        raw = model._encode_raw(batch["x"])
        post = model.encode(batch["x"])
    for d, (mu, _) in raw.items():
        assert torch.allclose(post[d].mean, torch.tanh(mu))
        assert post[d].mean.abs().max() < 1.0


def test_schedules_are_bounded(features, label_maps, batch):
    model = build(features, label_maps, kl_weight=0.01, beta_ramp_epochs=10,
                  adversarial_weight=0.1, adversarial_start=5, adversarial_ramp=5)
    assert model.beta(0) == pytest.approx(0.001)
    assert model.beta(9) == pytest.approx(0.01) and model.beta(10_000) == pytest.approx(0.01)
    assert model.adversary(4) == 0.0
    assert model.adversary(5) == pytest.approx(0.02)
    assert model.adversary(10_000) == pytest.approx(0.1)
    before = model.loss(batch, epoch=0)
    assert before["adv/weight"].item() == 0.0


def test_remover_alternation_updates_only_intended_parameters(features, label_maps, batch):
    model = build(features, label_maps, adversarial_start=0, adversarial_ramp=1)
    model.train()
    opts = model.make_optimizers(1e-2)
    rem = {id(p) for p in model.remover_parameters()}
    assert rem and {id(p) for g in opts["removers"].param_groups for p in g["params"]} == rem
    assert not rem & {id(p) for g in opts["main"].param_groups for p in g["params"]}
    snap = {n: p.detach().clone() for n, p in model.named_parameters()}
    model.main_step(batch, opts["main"], epoch=0)
    for n, p in model.named_parameters():
        assert torch.equal(snap[n], p) == (id(p) in rem), n
    assert all(p.grad is None for p in model.remover_parameters())
    snap = {n: p.detach().clone() for n, p in model.named_parameters()}
    model.remover_step(model._remover_inputs, model._remover_labels, opts["removers"])
    for n, p in model.named_parameters():
        assert torch.equal(snap[n], p) != (id(p) in rem), n


def test_missing_descriptor_label_is_an_error(features, label_maps):
    maps = {k: v for k, v in label_maps.items() if k != "dynamics"}
    with pytest.raises(ValueError, match="dynamics"):
        build(features, maps)
    build(features, maps, descriptors=("timbre", "pitch", "duration"))


def test_view_loss_pulls_the_chosen_spaces_only(features, label_maps, batch):
    """With a gain view in the batch, the named spaces get a consistency term; the others do not."""
    model = build(features, label_maps, view_weight=1.0, view_spaces=("timbre", "pitch"))
    viewed = {**batch, "x_view": batch["x"] + 0.3}
    logs = model.loss(viewed, epoch=3)
    assert {k for k in logs if k.startswith("view/")} == {"view/timbre", "view/pitch"}
    assert logs["view/timbre"] > 0
    # It is added to the loss x view_weight (eval mode and one seed: the same noise both times).
    model.eval()
    torch.manual_seed(0)
    with_view = model.loss(viewed, epoch=3)
    torch.manual_seed(0)
    without = model.loss(batch, epoch=3)["loss"]
    added = (with_view["view/timbre"] + with_view["view/pitch"]) / 2
    assert torch.allclose(with_view["loss"] - without, added, atol=1e-5)
    model.train()
    # The view's gradient reaches the encoder through the view, not the recorded side.
    model.zero_grad()
    model._view_loss(viewed, model._encode_raw(batch["x"]), {}).backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.trunk.parameters())
    check_train_step(model, viewed, epoch=3)


def test_view_spaces_must_be_descriptors(features, label_maps):
    with pytest.raises(ValueError, match="view_spaces"):
        build(features, label_maps, view_weight=1.0, view_spaces=("loudness",))
    build(features, label_maps, view_spaces=("loudness",))  # off: not checked
