#!/usr/bin/env python
"""`python scripts/extract.py --help` from a checkout, no install needed; installed: `disentangle-extract`.

The command lives in `disentangle/cli/extract.py`.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's package

from disentangle.cli.extract import main

if __name__ == "__main__":
    sys.exit(main())
