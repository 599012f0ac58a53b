#!/usr/bin/env python
"""`python scripts/bench.py --help` from a checkout, no install needed; installed: `disentangle-bench`.

The command lives in `disentangle/cli/bench.py`.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's package

from disentangle.cli.bench import main

if __name__ == "__main__":
    sys.exit(main())
