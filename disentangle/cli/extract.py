"""Compute a corpus's feature cache (and, given checkpoints, its latents) ahead of the app.

Examples:
  python scripts/extract.py --data data/notes --checkpoint gmvae
  torchrun --standalone --nproc_per_node 2 scripts/extract.py --data /data/nsynth --checkpoint gmvae
  # several nodes, a shared file system for --shards and the corpus:
  torchrun --nnodes 8 --nproc_per_node 16 --rdzv_backend c10d --rdzv_endpoint HOST:29500 \\
      scripts/extract.py --data /shared/nsynth --checkpoint gmvae --shards /shared/nsynth-shards

Every process computes the features of its block of the corpus (and encodes
them with each checkpoint) and writes them as a shard; rank 0 then joins the
shards into the caches the app, training and evaluation read. Without torchrun
it runs as one process. Installed, the same command is `disentangle-extract`.
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--data", required=True, help="corpus folder (metadata.csv, NSynth, TinySOL, folder)")
    parser.add_argument("--checkpoint", nargs="*", action="extend", default=[],
                        help="checkpoint names or paths whose latents to compute (default: features only)")
    parser.add_argument("--features", default=None,
                        help="feature settings as a config name (default: those of the first checkpoint; "
                             "required without one)")
    parser.add_argument("--feature-cache", default=None, help="feature cache folder (default <corpus>/.cache)")
    parser.add_argument("--cache", default=None, help="latent cache folder of the app "
                        "(default <corpus>/.cache/explore, as `app/main.py --cache`)")
    parser.add_argument("--shards", default=None,
                        help="folder for the shards, reachable by every rank (default <corpus>/.cache/shards)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    import torch.distributed as dist

    from disentangle import load_model
    from disentangle.training.data import open_any_corpus
    from disentangle.training.distributed import DistInfo, launched_distributed

    args = parse_args(argv)
    info = DistInfo()
    if launched_distributed():
        # A shard of NSynth can take an hour: the barrier must outwait the slowest rank.
        dist.init_process_group("gloo", timeout=timedelta(hours=24))
        info = DistInfo(dist.get_rank(), dist.get_world_size())
    try:
        models = {str(spec).rsplit("/", 1)[-1].removesuffix(".pt"): load_model(spec) for spec in args.checkpoint}
        if models:
            cfg = next(iter(models.values())).features
        elif args.features:
            from disentangle.configs import load_config

            cfg = load_config(args.features).features
        else:
            print("error: give --checkpoint or --features", file=sys.stderr)
            return 2
        corpus = open_any_corpus(args.data)
        start = time.perf_counter()
        from disentangle.explore.extract import extract

        fs = extract(corpus, cfg, models, rank=info.rank, world=info.world_size, shard_dir=args.shards,
                     feature_cache=args.feature_cache, explore_cache=args.cache,
                     barrier=(lambda: dist.barrier()) if info.enabled else (lambda: None),
                     say=lambda m: print(m, flush=True))
        if fs is not None:
            seconds = time.perf_counter() - start
            print(f"{len(corpus):,} items in {seconds:.1f} s on {info.world_size} process(es): "
                  f"{len(corpus) / seconds / info.world_size:.1f} items/s per process", flush=True)
    finally:
        if info.enabled and dist.is_initialized():
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
