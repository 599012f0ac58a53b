"""The latent-map explorer's library side: projections, disk caches, figures, sessions.

`app/main.py` is a thin Gradio layer over `Explorer` (explorer.py); everything
here runs and is tested without a browser.
"""
from disentangle.explore.projection import Projection, ProjectionParams, fit_projection

__all__ = ["Projection", "ProjectionParams", "fit_projection"]
