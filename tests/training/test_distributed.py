"""Two CPU processes (gloo) under torchrun end with identical weights; rank 0 writes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from disentangle.checkpoint import load_checkpoint

from .helpers import REPO, gmvae_config_dict, state_equal

WORKER = textwrap.dedent("""
    import json, sys
    import torch, torch.distributed as dist
    sys.path[:0] = [{repo!r}, {tests!r}]
    from disentangle.configs import config_from_dict
    from disentangle.training.trainer import train

    def snapshot(epoch, model, record):
        torch.save(model.state_dict(), {out!r} + f"/rank{{dist.get_rank()}}.pt")

    cfg = config_from_dict(json.loads({cfg!r}))
    print(train(cfg, {data!r}, {out!r} + "/run", device="cpu", progress=False,
                on_epoch_end=snapshot))
""")


@pytest.mark.slow
def test_two_process_gloo_training(corpus_dir, tmp_path):
    cfg = gmvae_config_dict(epochs=2, batch_size=3)
    cfg["model_config"]["prior_ema"] = 0.05  # M-step mixture means: pooled across ranks, not drifting apart
    script = tmp_path / "worker.py"
    script.write_text(WORKER.format(repo=str(REPO), tests=str(REPO / "tests"), out=str(tmp_path),
                                    cfg=json.dumps(cfg), data=str(corpus_dir)))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc_per_node", "2", str(script)],
                          capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    r0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert state_equal(r0, r1)  # gradients and buffers were synchronised
    run = tmp_path / "run"
    assert sorted(p.name for p in run.iterdir()) == ["best.pt", "last.pt", "log.jsonl"]
    assert (run / "log.jsonl").read_text().count("\n") == 2  # one writer, not two
    last = load_checkpoint(run / "last.pt")
    assert last["meta"]["world_size"] == 2
    assert state_equal(last["state_dict"], r0)
    assert (tmp_path / "run.pt").is_file()
    # training moved the weights away from the (seeded) initial ones
    from disentangle.configs import config_from_dict, registry
    from disentangle.training.state import seed_everything

    run_cfg = config_from_dict(cfg)
    seed_everything(run_cfg.train.seed)
    init = registry()["gmvae"](run_cfg.model_config, run_cfg.features, last["label_maps"])
    assert not state_equal(init.state_dict(), r0)


def _grad_worker(rank: int, world: int, init_file: str, out: str) -> None:
    import torch.distributed as dist

    from disentangle.training.distributed import install_gradient_sync

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    torch.manual_seed(0)
    layer = torch.nn.Linear(3, 2)
    install_gradient_sync(layer, world)
    x = torch.full((4, 3), float(rank + 1))  # different data on each rank
    layer(x).sum().backward()
    layer(x).pow(2).sum().backward()  # a second backward accumulates into the same grads
    torch.save({k: p.grad for k, p in layer.named_parameters()}, f"{out}/grad{rank}.pt")
    dist.destroy_process_group()


@pytest.mark.slow
def test_gradient_sync_averages_across_ranks(tmp_path):
    import torch.multiprocessing as mp

    mp.spawn(_grad_worker, args=(2, str(tmp_path / "init"), str(tmp_path)), nprocs=2, join=True)
    g0 = torch.load(tmp_path / "grad0.pt", weights_only=True)
    g1 = torch.load(tmp_path / "grad1.pt", weights_only=True)
    expected = {}
    for rank in range(2):  # the same two backward passes in one process, per rank's data
        torch.manual_seed(0)
        layer = torch.nn.Linear(3, 2)
        x = torch.full((4, 3), float(rank + 1))
        layer(x).sum().backward()
        layer(x).pow(2).sum().backward()
        for k, p in layer.named_parameters():
            expected[k] = expected.get(k, 0) + p.grad / 2
    for k, want in expected.items():
        assert torch.allclose(g0[k], want) and torch.equal(g0[k], g1[k])


def _standardiser_worker(rank: int, world: int, init_file: str, out: str) -> None:
    import torch.distributed as dist

    from disentangle.models.dsae_nets import FrameStandardiser

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    scaler = FrameStandardiser(3)
    scaler.fit(torch.arange(24.0).reshape(2, 4, 3) + 100 * rank)  # each rank sees other data
    torch.save(scaler.state_dict(), f"{out}/scaler{rank}.pt")
    dist.destroy_process_group()


def test_standardiser_fits_on_every_ranks_first_batch(tmp_path):
    import torch.multiprocessing as mp

    from disentangle.models.dsae_nets import FrameStandardiser

    mp.spawn(_standardiser_worker, args=(2, str(tmp_path / "init"), str(tmp_path)), nprocs=2, join=True)
    s0 = torch.load(tmp_path / "scaler0.pt", weights_only=True)
    s1 = torch.load(tmp_path / "scaler1.pt", weights_only=True)
    both = FrameStandardiser(3)
    both.fit(torch.cat([torch.arange(24.0).reshape(2, 4, 3) + 100 * r for r in range(2)]))
    assert state_equal(s0, s1)
    assert torch.allclose(s0["mean"], both.mean) and torch.allclose(s0["std"], both.std)

