"""Render a SoundFont corpus (isolated notes or monophonic phrases) into a folder.

    python scripts/make_dataset.py --out data/notes
    python scripts/make_dataset.py --out data/phrases --corpus phrases --soundfont my.sf2

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
from disentangle.data.soundfont import SoundFontError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        epilog="The default SoundFont is TimGM6mb.sf2, shipped inside the pretty_midi package. "
               "notes: 15 instruments x playing range x pp/mf/ff x held lengths (3,648 notes). "
               "phrases: 4 s monophonic phrases with legato, vibrato and expression curves.")
    p.add_argument("--out", required=True, type=Path, help="output folder (created if missing)")
    p.add_argument("--corpus", choices=("notes", "phrases"), default="notes",
                   help="which corpus to render")
    p.add_argument("--soundfont", type=Path, default=None,
                   help="a .sf2 or .sf3 SoundFont (default: pretty_midi's TimGM6mb.sf2)")
    p.add_argument("--sample-rate", type=int, default=22050, help="sample rate of the wavs, Hz")
    p.add_argument("--seed", type=int, default=0,
                   help="seed for the splits (and, for phrases, the melodies)")
    p.add_argument("--instruments", nargs="+", default=None, metavar="NAME",
                   help="render only these instruments (default: all)")
    p.add_argument("--max-notes", type=int, default=None,
                   help="notes: keep an evenly spaced subset of this many notes")
    p.add_argument("--per-instrument", type=int, default=None,
                   help="phrases: phrases per instrument (default 100)")
    p.add_argument("--force", action="store_true",
                   help="re-render every file, even those already on disk")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = BuildReport()
    common = {"soundfont": args.soundfont, "sample_rate": args.sample_rate, "seed": args.seed,
                  "progress": not args.quiet, "instruments": args.instruments, "force": args.force,
                  "report": report}
    try:
        if args.corpus == "notes":
            from disentangle.data.notes import build_notes_corpus

            build_notes_corpus(args.out, max_notes=args.max_notes, **common)
            what = "notes"
        else:
            from disentangle.data.phrases import build_phrases_corpus

            extra = {} if args.per_instrument is None else {"per_instrument": args.per_instrument}
            build_phrases_corpus(args.out, **common, **extra)
            what = "phrases"
    except (SoundFontError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path, reason in report.failed[:10]:
        print(f"failed: {path}: {reason}", file=sys.stderr)
    print(f"{args.out}: {report.summary(what)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
