"""Render a SoundFont corpus (isolated notes or monophonic phrases) into a folder.

    python scripts/make_dataset.py --out data/notes
    python scripts/make_dataset.py --out data/phrases --corpus phrases
    python scripts/make_dataset.py --out data/fluid --source fluidr3 --holdout-source fluidr3
    python scripts/make_dataset.py --out data/mine --soundfont my.sf2

Writes DIR/metadata.csv and 16-bit wavs under DIR/audio/ (phrases also write
frame-level annotations, one .npz beside each wav). Re-running with the same
arguments renders nothing new; an interrupted build resumes. All logic lives
in `disentangle.data.notes` / `disentangle.data.phrases`. Installed, the same
command is `disentangle-dataset`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from disentangle.data.build import BuildReport
from disentangle.data.builtin import build_builtin
from disentangle.data.soundfont import SoundFontError
from disentangle.data.sources import DEFAULT_SOURCES, HOLDOUT_SOURCES, SOURCES


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        epilog="Default sources: " + ", ".join(DEFAULT_SOURCES) + " (" + ", ".join(HOLDOUT_SOURCES)
               + " held out as the 'unseen' split). Known sources: " + ", ".join(sorted(SOURCES))
               + ". notes: 15 instruments x playing range x pp/mf/ff x one held length per source, "
               "plus 12 GM drums. phrases: 4 s monophonic phrases with legato, vibrato and expression "
               "curves.")
    p.add_argument("--out", required=True, type=Path, help="output folder (created if missing)")
    p.add_argument("--corpus", choices=("notes", "phrases"), default="notes",
                   help="which corpus to render")
    p.add_argument("--source", action="append", default=None, metavar="NAME|PATH",
                   help="a sample source to render from (repeatable; default: the default mix)")
    p.add_argument("--holdout-source", action="append", default=None, metavar="NAME",
                   help="keep this source out of train/valid/test, in a split 'unseen' of its own "
                        "(repeatable; default with the default mix: " + ", ".join(HOLDOUT_SOURCES) + ")")
    p.add_argument("--soundfont", type=Path, default=None,
                   help="render from this one .sf2 or .sf3 SoundFont only (same as --source PATH)")
    p.add_argument("--no-percussion", action="store_true", help="notes: leave out the GM drums")
    p.add_argument("--lengths-per-note", type=int, default=None,
                   help="notes: held lengths per (pitch, dynamics) and source (default 1 with several "
                        "sources, 2 with one)")
    p.add_argument("--sample-rate", type=int, default=22050, help="sample rate of the wavs, Hz")
    p.add_argument("--seed", type=int, default=0,
                   help="seed for the splits (and, for phrases, the melodies)")
    p.add_argument("--instruments", nargs="+", action="extend", default=None, metavar="NAME",
                   help="render only these instruments (default: all)")
    p.add_argument("--max-notes", type=int, default=None,
                   help="notes: keep an evenly spaced subset of this many notes")
    p.add_argument("--per-instrument", type=int, default=None,
                   help="phrases: phrases per instrument and source (default 25 with several "
                        "sources, 100 with one)")
    p.add_argument("--force", action="store_true",
                   help="re-render every file, even those already on disk")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = BuildReport()
    if args.source and args.soundfont:
        print("error: give --source or --soundfont, not both", file=sys.stderr)
        return 2
    sources = [str(args.soundfont)] if args.soundfont is not None else args.source
    options: dict = {"instruments": args.instruments, "sample_rate": args.sample_rate, "force": args.force}
    if args.corpus == "notes":
        options["max_notes"] = args.max_notes
        if args.no_percussion:
            options["percussion"] = False
        if args.lengths_per_note:
            options["lengths_per_note"] = args.lengths_per_note
    elif args.per_instrument:
        options["per_instrument"] = args.per_instrument
    try:
        build_builtin(args.corpus, args.out, sources=sources, holdout=args.holdout_source,
                      progress=not args.quiet, seed=args.seed, report=report, **options)
    except (SoundFontError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in report.missing_sources:
        print(f"warning: {line}; building from the other sources", file=sys.stderr)
    for path, reason in report.failed[:10]:
        print(f"failed: {path}: {reason}", file=sys.stderr)
    for path, share in report.weak_pitch[:10]:
        print(f"warning: {path} has {share:.0%} of its energy at its pitch's harmonics "
              "(the synthesizer may have played it wrong)", file=sys.stderr)
    print(f"{args.out}: {report.summary(args.corpus)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
