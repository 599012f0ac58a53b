"""Train a model from a run config on a corpus folder.

Examples:
  python scripts/train.py --config gmvae --data data/notes --out checkpoints/gmvae
  python scripts/train.py --config gmvae --data data/notes --out runs/ablation \\
      --set train.epochs=3 model_config.label_fraction=0.5
  python scripts/train.py --config gmvae --data data/notes --out checkpoints/gmvae --resume
  torchrun --standalone --nproc_per_node 2 scripts/train.py --config gmvae \\
      --data data/notes --out runs/ddp

Installed, the same command is `disentangle-train`.
"""
from __future__ import annotations

import argparse
import sys

EPILOG = """\
What it writes:
  OUT/last.pt    every epoch, with the full training state (for --resume)
  OUT/best.pt    the epoch with the lowest mean validation loss
  OUT/log.jsonl  one JSON object per epoch (train/*, valid/*, lr, seconds, best)
  OUT.pt         the artifact: best.pt without optimizer state, plus a report
                 (--out checkpoints/NAME gives checkpoints/NAME.pt, which
                 disentangle.load_model("NAME") loads)

--config takes a shipped config name ({configs}) or a YAML file with the keys
model, model_config, features and train. --set overrides single values, parsed
as YAML, e.g. --set train.epochs=3 train.lr=5e-4 model_config.label_fraction=0.5

--resume continues from OUT/last.pt: model, optimizers, LR schedulers, epoch,
best value, RNG states and history are restored, so a run killed mid-epoch
continues from its last complete epoch and ends with the same weights.

Multi-GPU / multi-node: launch this script with torchrun (e.g.
`torchrun --standalone --nproc_per_node 2 scripts/train.py ...`); each process
takes a shard of every epoch (batch_size is per process), gradients are
averaged across processes (nccl on cuda, gloo on cpu), and only rank 0 writes.
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from disentangle.configs import available_configs

    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG.format(configs=", ".join(available_configs()) or "none shipped yet"))
    parser.add_argument("--config", required=True, help="shipped config name or path to a YAML file")
    parser.add_argument("--data", required=True, help="corpus folder (metadata.csv, TinySOL, NSynth, ...)")
    parser.add_argument("--out", required=True, help="run folder, e.g. checkpoints/NAME")
    parser.add_argument("--epochs", type=int, default=None,
                        help="total epochs (overrides train.epochs; counts epochs already done on --resume)")
    parser.add_argument("--device", default="auto",
                        help="auto (cuda if available, else cpu; default), cpu, cuda or cuda:N")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.pt if it exists")
    parser.add_argument("--set", nargs="*", action="extend", default=[], metavar="SECTION.KEY=VALUE",
                        dest="overrides",
                        help="override config values, e.g. train.epochs=3 model_config.label_fraction=0.5 "
                             "(repeatable: every --set counts)")
    parser.add_argument("--half", action="store_true",
                        help="store the artifact's weights in float16 (half the file; loads as float32)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or epoch lines")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from disentangle.configs import ConfigError, load_config
    from disentangle.training.trainer import train

    try:
        run = load_config(args.config, args.overrides)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    artifact = train(run, args.data, args.out, epochs=args.epochs, device=args.device,
                     resume=args.resume, progress=not args.quiet)
    if args.half and artifact.is_file():  # only the artifact: last.pt/best.pt keep float32 to resume
        from disentangle.checkpoint import strip_training_state

        strip_training_state(artifact, half=True)
    print(artifact)
    return 0


if __name__ == "__main__":
    sys.exit(main())
