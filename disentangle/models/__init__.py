"""The models: importing this package fills `REGISTRY` with every model class."""
from disentangle.models.base import (
                                     REGISTRY,
                                     DisentangleModel,
                                     LatentSpace,
                                     ModelConfig,
                                     Posterior,
                                     PriorComponents,
                                     register,
)
from disentangle.models.dsae import DSAE, JDSAE, TSDSAE, DSAEConfig
from disentangle.models.gmvae import GMVAE, GMVAEConfig
from disentangle.models.mdgmvae import MDGMVAE, MDGMVAEConfig
from disentangle.models.reentry import ReentryConfig, ReentryThreeFactor
from disentangle.models.threefactor import ThreeFactorConfig, ThreeFactorVAE

__all__ = [
                                     "DSAE",
                                     "GMVAE",
                                     "JDSAE",
                                     "MDGMVAE",
                                     "REGISTRY",
                                     "TSDSAE",
                                     "DSAEConfig",
                                     "DisentangleModel",
                                     "GMVAEConfig",
                                     "LatentSpace",
                                     "MDGMVAEConfig",
                                     "ModelConfig",
                                     "Posterior",
                                     "PriorComponents",
                                     "ReentryConfig",
                                     "ReentryThreeFactor",
                                     "ThreeFactorConfig",
                                     "ThreeFactorVAE",
                                     "register",
]
