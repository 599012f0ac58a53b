#!/usr/bin/env python
"""`python scripts/train.py --help` from a checkout, no install needed; installed: `disentangle-train`.

The command lives in `disentangle/cli/train.py`.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's package

from disentangle.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
