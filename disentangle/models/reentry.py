"""Re-entry training (Tanaka, Bando, Yoshii, Morishima 2025) of the three-factor VAE.

The same network runs twice in series with shared weights: pass 1 encodes the
perturbed inputs (f(X), g(X)) and decodes an intermediate reconstruction
Y1 = mu(Z1); pass 2 feeds Y1 to ALL its encoders (envelope / fine structure
of Y1 when `cepstrum` is on, no perturbation) and decodes Y2 = mu(Z2). Both
are compared with the clean X. Seen as one large VAE, the encoders of pass 1,
the decoder mean and the encoders of pass 2 form the inference model of Z2,
and the generative model p(X | Z2) p(Z2) is unchanged, so

  L_Re = E[log p(X | Z2)] - E_{Z1}[ KL(q(Z2 | Y1(Z1)) || p(Z2)) ]

(the KL of the implicit mixture q(Z2 | X) is bounded by the expected KL of its
components, so L_Re is still a lower bound; one sample of Z1 and Z2 each).
The paper trains re-entry "in parallel with the original VAE training for
stability", i.e. maximises L_R + L_Re, where L_R is the standard bound of
pass 1 (Y1 against X with KL on Z1). Gradients of L_Re flow back through Y1
into pass 1, as in the large-VAE view (`detach_intermediate` cuts them).
The cyclical KL weight scales both KL terms.

`encode` / `decode` / `spaces` are the inner network's (the paper's "small
encoder", which it found better than the large one at test time), so the app
and evaluation see an ordinary three-factor model.
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from disentangle.models.base import register
from disentangle.models.threefactor import ThreeFactorConfig, ThreeFactorVAE


@dataclass
class ReentryConfig(ThreeFactorConfig):
    """`ThreeFactorConfig` plus the weights of the two bounds."""

    standard_weight: float = 1.0      # L_R, the first (standard) pass
    reentry_weight: float = 1.0       # L_Re, the second pass on Y1
    detach_intermediate: bool = False  # stop L_Re's gradient at Y1 (not in the paper)


@register
class ReentryThreeFactor(ThreeFactorVAE):
    """The three-factor VAE trained with re-entry; same spaces and parameters."""

    name = "reentry"
    config_class = ReentryConfig
    config: ReentryConfig  # what the registry builds it with (a ThreeFactorConfig subclass)

    def loss(self, batch: dict, epoch: int) -> dict[str, Tensor]:
        """-(w_R L_R + w_Re L_Re) with cyclically annealed KL; labels are not used.

        Logged: "recon/*" and "kl/*" of pass 1 (the standard terms, comparable
        with `ThreeFactorVAE`) and "reentry/recon/*", "reentry/kl/*" of pass 2.
        """
        cfg = self.config
        x = batch["x"]
        first, y1 = self.elbo_terms(x, *self.perturbed_inputs(batch))
        y_in = y1.detach() if cfg.detach_intermediate else y1
        second, _ = self.elbo_terms(x, y_in, y_in, prefix="reentry/")
        # Validation scores the full bound: with the annealed weight the epochs at
        # the bottom of a cycle would always look best.
        beta = self.kl_schedule(epoch) if self.training else self.config.kl_weight
        kl1 = sum(v for k, v in first.items() if k.startswith("kl/"))
        kl2 = sum(v for k, v in second.items() if k.startswith("reentry/kl/"))
        out = {"recon/nll": first["nll"], "recon/mse": first["mse"],
               "reentry/recon/nll": second["reentry/nll"], "reentry/recon/mse": second["reentry/mse"],
               **{k: v for k, v in first.items() if k.startswith("kl/")},
               **{k: v for k, v in second.items() if k.startswith("reentry/kl/")},
               "kl/weight": x.new_tensor(beta)}
        out["loss"] = (cfg.standard_weight * (first["nll"] + beta * kl1)
                       + cfg.reentry_weight * (second["reentry/nll"] + beta * kl2))
        return out
