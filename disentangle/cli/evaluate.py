"""Evaluate a trained model: disentanglement, synthesis and transfer figures.

    python scripts/evaluate.py --checkpoint runs/gmvae/best.pt --data data/notes \
        --split test --out runs/gmvae/report.json [--write-checkpoint]
    python scripts/evaluate.py --checkpoint CK --data HELD [HELD ...] --fit-on TRAIN --out R.json

With --fit-on, the in-domain report is computed on TRAIN (its --split) and a
`cross_source` section is added for every HELD corpus: read-outs fitted on
TRAIN's train split, scored on HELD's `unseen` split (else its test split).
`--cross-only` skips the in-domain part.

Writes the JSON report and a Markdown summary beside it (report.json ->
report.md); `--write-checkpoint` also stores the report in the checkpoint
(its `report` key, merged with what was there). Installed, the same command
is `disentangle-evaluate`.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import torch

from disentangle.checkpoint import CheckpointError, load_model, update_report
from disentangle.evaluation import EvalConfig, evaluate, report_to_markdown, write_report
from disentangle.evaluation.frames import annotation_frame_labels
from disentangle.evaluation.probes import ProbeConfig
from disentangle.evaluation.runner import shown_path
from disentangle.evaluation.swaps import SwapConfig


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True,
                   help="checkpoint file, run folder (its best.pt) or shipped name (checkpoints/<name>.pt)")
    p.add_argument("--data", required=True, nargs="+", action="extend",
                   help="corpus folder (anything open_corpus reads); with --fit-on, the held corpora")
    p.add_argument("--fit-on", default=None, metavar="TRAIN",
                   help="fit read-outs on this corpus and score --data zero-shot (cross-source)")
    p.add_argument("--cross-only", action="store_true",
                   help="with --fit-on: only the cross_source sections; a report already at --out keeps its "
                        "other sections and its sections for other held corpora")
    p.add_argument("--split", default="test", help="split to score (read-outs train on 'train')")
    p.add_argument("--out", default=None, help="report JSON path (default: beside the checkpoint)")
    p.add_argument("--write-checkpoint", action="store_true", help="store the report in the checkpoint")
    p.add_argument("--device", default="cpu", help="cpu, cuda, ... or auto")
    p.add_argument("--no-synthesis", action="store_true", help="skip controllable synthesis")
    p.add_argument("--synthesis-repeats", type=int, default=EvalConfig.repeats,
                   help="samples per synthesis target at w > 0 (Luo 2019: 30)")
    p.add_argument("--no-transfer", action="store_true", help="skip timbre transfer")
    p.add_argument("--no-swaps", action="store_true",
                   help="skip the v-swap/z-swap protocol (models with global and local spaces)")
    p.add_argument("--crepe", choices=["tiny", "full"], default="tiny",
                   help="CREPE model for raw pitch accuracy of swaps (full: as Luo 2024, ~20x slower)")
    p.add_argument("--rpa-items", type=int, default=SwapConfig.rpa_items,
                   help="evaluated items resynthesised (Griffin-Lim) and pitch-tracked per swap condition")
    p.add_argument("--max-frames", type=int, default=10000,
                   help="frame-wise read-outs of local spaces use at most this many (seeded) train frames "
                        "and as many test frames. 10k: the linear probe of one local space x 4 labels "
                        "took 113 s on data/phrases (shared CPU) against 294 s at 20k; 5-NN accuracy "
                        "rises a little with more frames (denser neighbours)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1,
                   help="torch intra-op threads, 0 = torch's default. One thread is the default "
                        "because on a busy 2-core machine it encoded data/notes in 12 s where two "
                        "threads took 28 s")
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    args = p.parse_args(argv)
    if args.fit_on is None and (len(args.data) > 1 or args.cross_only):
        p.error("several --data corpora and --cross-only need --fit-on TRAIN")
    if args.synthesis_repeats < 1:
        p.error(f"--synthesis-repeats must be at least 1, got {args.synthesis_repeats}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    say = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    start = time.perf_counter()
    try:
        model = load_model(args.checkpoint, device=device)
    except CheckpointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from disentangle.data.loaders import open_corpus
    try:
        corpus = open_corpus(args.fit_on or args.data[0])
        held = [open_corpus(d) for d in args.data] if args.fit_on else []
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    say(f"evaluating {model.name} ({model.checkpoint_path}) on {corpus.name}, split {args.split!r}")
    default = SwapConfig()
    swap = dataclasses.replace(default, rpa_items=args.rpa_items,
                               crepe=dataclasses.replace(default.crepe, capacity=args.crepe))
    cfg = EvalConfig(synthesis=not args.no_synthesis, repeats=args.synthesis_repeats,
                     transfer=not args.no_transfer, swaps=not args.no_swaps, swap=swap,
                     probe=ProbeConfig(max_frames=args.max_frames, seed=args.seed), seed=args.seed)
    # Local spaces are scored frame-wise where the corpus has frame annotations (phrases).
    frames = annotation_frame_labels(corpus, model.features, model.label_maps)
    report: dict = ({"model": model.describe(), "checkpoint": shown_path(model.checkpoint_path), "seconds": {}}
                    if args.cross_only else
                    evaluate(model, corpus, args.split, cfg=cfg, frame_labels=frames, progress=not args.quiet,
                             log=say))
    if held:
        from disentangle.evaluation.cross_source import cross_source
        report["cross_source"] = {}
        for h in held:
            section = cross_source(model, corpus, h, cfg=cfg, progress=not args.quiet, log=say)
            # Named by corpus and sources: "notes:musescore-lite" for a default corpus's unseen split.
            report["cross_source"][f"{h.name}:{'+'.join(section['held_sources'])}"] = section
    report["seconds"]["total"] = round(time.perf_counter() - start, 2)
    out = Path(args.out) if args.out else Path(model.checkpoint_path).with_name(
        f"report-{Path(model.checkpoint_path).stem}-{args.split}.json")
    if args.cross_only:
        report = merged_report(out, report)
    json_path, md_path = write_report(report, out)
    if args.write_checkpoint:
        update_report(model.checkpoint_path, report)
        say(f"report stored in {model.checkpoint_path}")
    if not args.quiet:
        print(report_to_markdown(report))
    say(f"wrote {json_path} and {md_path} in {report['seconds']['total']:.1f} s")
    return 0


def merged_report(path: Path, cross: dict) -> dict:
    """The report at `path` (if any) with the cross_source sections of `cross` put in (same name replaced)."""
    try:
        old = json.loads(path.read_text())
    except FileNotFoundError:
        return cross
    except (OSError, ValueError) as exc:
        raise SystemExit(f"error: {path} is not a readable report ({exc}); give another --out") from None
    if not isinstance(old, dict) or old.get("checkpoint") != cross["checkpoint"]:
        raise SystemExit(f"error: {path} reports on {old.get('checkpoint') if isinstance(old, dict) else None}, "
                         f"not {cross['checkpoint']}; give another --out")
    old.setdefault("cross_source", {}).update(cross.get("cross_source", {}))
    old.setdefault("seconds", {})["cross_source"] = cross["seconds"]["total"]
    return old


if __name__ == "__main__":
    sys.exit(main())
