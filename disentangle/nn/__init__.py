"""Small building blocks shared by the models: mixture priors, MLPs, removers, schedules."""
from disentangle.nn.adversary import Removers, uniform_kl
from disentangle.nn.blocks import ResBlock2d, mlp
from disentangle.nn.mixture import MixturePrior, gaussian_kl, standard_kl
from disentangle.nn.schedule import LinearRamp

__all__ = ["MixturePrior", "gaussian_kl", "standard_kl", "Removers", "uniform_kl",
           "ResBlock2d", "mlp", "LinearRamp"]
