"""GMVAE (Luo 2019) and its VAE baseline at tiny capacity: shapes, loss, masking, rebuild."""
from __future__ import annotations

import pytest
import torch

from disentangle.models import GMVAE, REGISTRY, GMVAEConfig
from disentangle.models.gmvae import label_mask

from .helpers import check_rebuild, check_shapes, check_train_step

TINY = {"timbre_dim": 4, "pitch_dim": 3, "channels": 8, "hidden": 8}
COMBOS = [
    {},
    {"timbre_prior": "isotropic"},
    {"pitch_classifier": False, "label_fraction": 0.5, "pitch_ce_weight": 2.0},
    {"label_fraction": 0.0, "pool": 3},
    {"adversary_weight": 0.5, "kl_warmup_epochs": 3},
    {"timbre_prior": "isotropic", "adversary_weight": 1.0, "pool": 2},
    {"norm": "layer", "prior_ema": 0.1, "label_fraction": 0.5},
]


def build(features, label_maps, **kw) -> GMVAE:
    return GMVAE(GMVAEConfig(**{**TINY, **kw}), features, label_maps)


def test_registered():
    assert REGISTRY["gmvae"] is GMVAE


@pytest.mark.parametrize("kw", COMBOS)
def test_every_combination(kw, features, label_maps, batch):
    model = build(features, label_maps, **kw)
    check_shapes(model, batch)
    logs = check_train_step(model, batch, epoch=1)
    assert {"recon/mse", "kl/timbre", "kl/pitch", "ce/instrument"} <= set(logs)
    assert ("ce/pitch" in logs) == model.config.pitch_classifier
    assert ("priors" and "timbre" in model.priors()) == (model.config.timbre_prior == "gmm")
    check_rebuild(model, batch)


def test_paper_defaults(features, label_maps):
    cfg = GMVAEConfig()
    assert (cfg.timbre_dim, cfg.pitch_dim, cfg.channels, cfg.hidden) == (16, 16, 512, 512)
    model = build(features, label_maps)
    pri = model.priors()
    assert torch.allclose(pri["pitch"].stds, torch.tensor(2.0).neg().exp().expand_as(pri["pitch"].stds))
    assert torch.allclose(pri["timbre"].stds, torch.ones_like(pri["timbre"].stds))


def test_label_mask_is_deterministic_and_near_fraction():
    idx = torch.arange(20000)
    a = label_mask(idx, 0.3, seed=0)
    assert torch.equal(a, label_mask(idx, 0.3, seed=0))
    assert torch.equal(a[5000:5100], label_mask(idx[5000:5100], 0.3, seed=0))  # per item, not per batch
    assert abs(a.float().mean().item() - 0.3) < 0.02
    assert not torch.equal(a, label_mask(idx, 0.3, seed=1))
    assert label_mask(idx, 1.0, 0).all() and not label_mask(idx, 0.0, 0).any()
    # a larger fraction labels a superset of the items
    assert (label_mask(idx, 0.6, 0) | ~a).all()


def test_unsupervised_timbre_gets_no_cross_entropy(features, label_maps, batch):
    model = build(features, label_maps, label_fraction=0.0)
    terms = model.loss(batch, epoch=0)
    assert terms["ce/instrument"].item() == 0.0
    assert terms["kl/timbre_y"].item() > 0.0


def test_missing_label_column_is_an_error(features, label_maps):
    maps = {k: v for k, v in label_maps.items() if k != "pitch"}
    with pytest.raises(ValueError, match="pitch"):
        build(features, maps)


def test_adversary_alternation_touches_only_its_side(features, label_maps, batch):
    model = build(features, label_maps, adversary_weight=1.0)
    model.train()
    opts = model.make_optimizers(1e-2)
    rem = {id(p) for p in model.remover_parameters()}
    snap = {n: p.detach().clone() for n, p in model.named_parameters()}
    model.main_step(batch, opts["main"], epoch=0)
    for n, p in model.named_parameters():
        assert torch.equal(snap[n], p) == (id(p) in rem), n
    snap = {n: p.detach().clone() for n, p in model.named_parameters()}
    model.remover_step(model._remover_inputs, model._remover_labels, opts["removers"])
    for n, p in model.named_parameters():
        assert torch.equal(snap[n], p) != (id(p) in rem), n


def test_prior_ema_sets_means_by_m_step_not_by_gradient(features, label_maps, batch):
    model = build(features, label_maps, prior_ema=0.5)
    assert not model.timbre_prior.means.requires_grad and not model.pitch_prior.means.requires_grad
    before = model.timbre_prior.means.clone()
    model.eval()
    with torch.no_grad():
        model.loss(batch, epoch=0)
    assert torch.equal(model.timbre_prior.means, before)  # validation never moves them
    model.train()
    check_train_step(model, batch, epoch=0)
    y = batch["labels"]["instrument"][0]
    assert not torch.equal(model.timbre_prior.means[y], before[y])
    check_rebuild(model, batch)


def test_source_adversary_reads_the_source_from_both_spaces(features, label_maps, batch):
    with pytest.raises(ValueError, match="source"):
        build(features, label_maps, source_adversary_weight=1.0)  # no "source" label column
    maps = {**label_maps, "source": ["a", "b", "c"]}
    sources = torch.tensor([0, 1, 2, 0, 1, -1])
    batch = {**batch, "labels": {**batch["labels"], "source": sources}}
    model = build(features, maps, source_adversary_weight=2.0, adversary_start=0, adversary_ramp=0)
    assert set(model.removers.targets) == {"source_from_timbre", "source_from_pitch"}
    logs = check_train_step(model, batch, epoch=0)
    assert logs["adv/source_from_timbre"] > 0 and "remover/source_from_pitch" in logs
    # the term enters the loss with its own weight, and not before adversary_start
    late = build(features, maps, source_adversary_weight=2.0, adversary_start=5, adversary_ramp=0)
    torch.manual_seed(0)
    early = late.loss(batch, epoch=0)
    torch.manual_seed(0)
    on = late.loss(batch, epoch=5)
    assert (on["loss"] - early["loss"]).item() == pytest.approx(
        2.0 * (on["adv/source_from_timbre"] + on["adv/source_from_pitch"]).item(), rel=1e-4)
    check_rebuild(model, batch)


def test_timbre_time_average_leaves_the_timbre_code_blind_to_when(features, label_maps, batch):
    """The bag-of-frames timbre encoder: one frame before its FC, so moving a note in time
    (a circular shift of the frames) leaves z_timbre nearly unchanged; the pitch side keeps time."""
    model = build(features, label_maps, timbre_time_average=True)
    assert model.timbre_encoder.fc[1].in_features == model.config.channels
    check_shapes(model, batch)
    check_train_step(model, batch, epoch=1)
    model.eval()
    x = batch["x"]
    shifted = torch.roll(x, shifts=x.shape[-1] // 2, dims=-1)
    with torch.no_grad():
        a, b = model.timbre_encoder(x).mean, model.timbre_encoder(shifted).mean
        pa, pb = model.pitch_encoder(x).mean, model.pitch_encoder(shifted).mean
    # only the frames at the seams differ (kernel 3: 4 of the conv frames see them)
    assert (a - b).norm() < 0.25 * (pa - pb).norm()
