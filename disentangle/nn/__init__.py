"""Small building blocks shared by the models: mixture priors, MLPs, removers, schedules."""
from disentangle.nn.adversary import Removers, uniform_kl
from disentangle.nn.blocks import ResBlock2d, mlp
from disentangle.nn.mixture import MixturePrior, gaussian_kl, standard_kl
from disentangle.nn.schedule import LinearRamp

__all__ = [
           "LinearRamp",
           "MixturePrior",
           "Removers",
           "ResBlock2d",
           "gaussian_kl",
           "mlp",
           "standard_kl",
           "uniform_kl",
]
