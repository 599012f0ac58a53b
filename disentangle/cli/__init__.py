"""The command-line programs, one module each, installed as console scripts.

`disentangle-train`, `disentangle-evaluate`, `disentangle-dataset`,
`disentangle-bench` and `disentangle-explore` (see `[project.scripts]` in
pyproject.toml) call the `main(argv) -> int` of `train`, `evaluate`,
`dataset`, `bench` and `explore`; `scripts/*.py` call the same functions
from a checkout.
"""
