"""Training settings: one typed dataclass, stored in every run's checkpoint."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from disentangle.data.schema import LABELS


@dataclass
class TrainConfig:
    """How a model is optimised (`disentangle.training.trainer.train`).

    epochs: passes over the training split.
    batch_size: items per optimisation step (per process when distributed,
      so the global batch is batch_size x world size).
    lr, weight_decay: handed to `model.make_optimizers`.
    grad_clip: max gradient norm (None or 0 disables clipping).
    seed: seeds torch, numpy and random; same seed -> same weights on CPU.
    num_workers: DataLoader worker processes (0 keeps loading in-process,
      which is fastest for in-memory spectrograms).
    cache_workers: processes that compute the cached perturbed variants of a
      model with `perturb_cache` (built once per corpus before the first
      epoch; pitch shifts dominate). None: as `num_workers`. The variants do
      not depend on it (each is seeded by its row and variant).
    device: "auto" (cuda if available, else cpu), "cpu", "cuda" or "cuda:N".
    label_columns: label columns encoded for the model (class indices come
      from the whole corpus so they are stable across splits).
    patience: stop after this many epochs without a better validation loss
      (None disables early stopping).
    min_delta: an epoch counts as better only if it beats the best by this
      (for best-checkpoint selection, early stopping and ReduceLROnPlateau).
    lr_patience: ReduceLROnPlateau patience in epochs (None disables it).
    lr_factor: ReduceLROnPlateau factor.
    lr_schedule: "constant" (or ReduceLROnPlateau with lr_patience) or
      "cosine": the learning rate follows a half cosine from lr down to
      lr x lr_final over `epochs`, stepped once per epoch. A short CPU run
      otherwise ends at full lr, where the loss still jumps between epochs.
    valid_fraction: when the corpus has no "valid" split, this fraction of the
      training items (chosen with `seed`) is held out for validation instead.
    monitor: the validation term that selects the best checkpoint.
    eq_tilt_db / eq_bumps_db: random EQ of every training batch's inputs
      (`disentangle.features.augment.SpectralEQ`; 0 = off), for models that
      read `batch["x"]`: cross-source augmentation that keeps the instrument.
    gain_view_db: when > 0, every training batch also carries `x_view`, its
      inputs at a random level within +-gain_view_db dB
      (`disentangle.features.augment.RandomGain`), for models that make some
      spaces level-invariant (MD-GMVAE `view_weight`); 0 = off.
    evaluate: after training, run the full `disentangle.evaluation.evaluate`
      on the test split and store its report in the artifact. Off by default:
      it trains read-out classifiers and can take longer than a short run
      (scripts/evaluate.py fills the report later). The test-split loss and
      a training summary are always stored.
    """

    epochs: int = 100
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.0
    grad_clip: float | None = 1.0
    seed: int = 0
    num_workers: int = 0
    cache_workers: int | None = None
    device: str = "auto"
    label_columns: list[str] = field(default_factory=lambda: list(LABELS))
    patience: int | None = None
    min_delta: float = 0.0
    lr_patience: int | None = None
    lr_factor: float = 0.5
    lr_schedule: str = "constant"
    lr_final: float = 0.05
    valid_fraction: float = 0.1
    monitor: str = "loss"
    evaluate: bool = False
    eq_tilt_db: float = 0.0
    eq_bumps_db: float = 0.0
    gain_view_db: float = 0.0

    def __post_init__(self) -> None:
        if self.lr_schedule not in ("constant", "cosine"):
            raise ValueError(f"train.lr_schedule must be 'constant' or 'cosine', not {self.lr_schedule!r}")
        if self.lr_schedule == "cosine" and self.lr_patience is not None:
            raise ValueError("train.lr_schedule 'cosine' and train.lr_patience exclude each other")

    def to_dict(self) -> dict:
        return asdict(self)
