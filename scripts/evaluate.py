#!/usr/bin/env python
"""`python scripts/evaluate.py --help` from a checkout, no install needed; installed: `disentangle-evaluate`.

The command lives in `disentangle/cli/evaluate.py`.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's package

from disentangle.cli.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
