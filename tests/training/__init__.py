"""Test package for disentangle.training (trainer, configs, distributed, bench)."""
