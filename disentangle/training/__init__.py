"""Training: `TrainConfig`, the resumable/distributed loop (`trainer.train`), data prep.

Use `disentangle.training.trainer.train(run_config, data_dir, out_dir)` or
`scripts/train.py`; checkpoints are read with `disentangle.load_model`.
"""
from disentangle.training.config import TrainConfig

__all__ = ["TrainConfig"]
