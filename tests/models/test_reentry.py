"""Re-entry training (Tanaka 2025): two passes through ONE network, the paper's
two bounds, and the inner model's interface for everything else."""
from __future__ import annotations

import pytest
import torch

from disentangle.models import REGISTRY, ReentryThreeFactor

from .helpers import check_rebuild, check_train_step
from .test_threefactor import build, check_local_shapes, perturbed_batch

COMBOS = [{}, {"pitch_encoder": "conditional"}, {"cepstrum": False}, {"use_variation": False},
          {"use_timbre": False}, {"noise_std": 0.1}, {"perturb_dropout": 0.25},
          {"detach_intermediate": True, "reentry_weight": 0.5}]


def test_registered():
    assert REGISTRY["reentry"] is ReentryThreeFactor
    assert ReentryThreeFactor.wants_perturbed_audio


@pytest.mark.parametrize("kw", COMBOS)
def test_every_combination(kw, features, label_maps):
    model = build(features, label_maps, "reentry", **kw)
    batch = perturbed_batch(features)
    check_local_shapes(model, batch["x"])
    logs = check_train_step(model, batch, epoch=7)
    assert {"recon/nll", "reentry/recon/nll", "reentry/recon/mse", "reentry/kl/pitch"} <= set(logs)
    check_rebuild(model, batch)


def test_same_parameters_and_interface_as_the_standard_model(features, label_maps):
    """No second copy of any weight: the state dicts match key for key, and the
    re-entry model's encode/decode equal a standard model's with its weights."""
    re = build(features, label_maps, "reentry")
    std = build(features, label_maps, "threefactor")
    assert list(re.state_dict()) == list(std.state_dict())
    std.load_state_dict(re.state_dict())
    re.eval(), std.eval()
    x = perturbed_batch(features)["x"]
    with torch.no_grad():
        a, b = re.encode(x), std.encode(x)
        assert all(torch.equal(a[k].mean, b[k].mean) for k in a)
        assert torch.equal(re.decode({k: p.mean for k, p in a.items()}),
                           std.decode({k: p.mean for k, p in b.items()}))
    assert [s.name for s in re.spaces] == ["timbre", "variation", "pitch"]


def test_second_pass_reuses_the_same_modules_on_the_intermediate(features, label_maps):
    """Each encoder and the decoder run twice per loss; pass 2's inputs are the
    split of pass 1's output, which carries gradient back into pass 1."""
    model = build(features, label_maps, "reentry", cepstrum=False)
    calls: dict[str, list] = {"timbre": [], "pitch": [], "decoder": []}
    model.timbre_encoder.register_forward_hook(lambda m, a, o: calls["timbre"].append(a[0]))
    model.pitch_encoder.register_forward_hook(lambda m, a, o: calls["pitch"].append(a[0]))
    model.decoder.register_forward_hook(lambda m, a, o: calls["decoder"].append(o))
    batch = perturbed_batch(features)
    model.train()
    terms = model.loss(batch, 5)
    assert [len(v) for v in calls.values()] == [2, 2, 2]
    y1 = calls["decoder"][0]
    assert torch.equal(calls["timbre"][1], y1) and torch.equal(calls["pitch"][1], y1)
    assert torch.equal(calls["timbre"][0], batch["x_pitch"])
    # the re-entry bound alone reaches the first pass's encoder through y1
    model.zero_grad()
    terms["reentry/recon/nll"].backward()
    g = model.timbre_encoder.head.mean.weight.grad
    assert g is not None and g.abs().sum() > 0


def test_loss_is_the_weighted_sum_of_both_bounds(features, label_maps):
    batch = perturbed_batch(features)
    model = build(features, label_maps, "reentry", standard_weight=0.3, reentry_weight=2.0)
    model.eval()
    with torch.no_grad():
        t = model.loss(batch, 0)  # eval: full KL weight, posterior samples still drawn
    kl1 = sum(v for k, v in t.items() if k.startswith("kl/") and k != "kl/weight")
    kl2 = sum(v for k, v in t.items() if k.startswith("reentry/kl/"))
    want = 0.3 * (t["recon/nll"] + kl1) + 2.0 * (t["reentry/recon/nll"] + kl2)
    assert torch.allclose(t["loss"], want)
