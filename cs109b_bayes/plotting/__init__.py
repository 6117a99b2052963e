"""Plots the labs share: traces, histograms, regression bands, latent spaces.

Each function draws on matplotlib axes it creates (or is given) and returns the
figure, so notebooks show it and scripts can `savefig` it.
"""

from cs109b_bayes.plotting.mcmc import plot_trace
from cs109b_bayes.plotting.networks import plot_chain_predictions
from cs109b_bayes.plotting.regression import plot_bootstrap_lines, plot_predictive_band
from cs109b_bayes.plotting.vae import plot_image_rows, plot_latent_scatter, plot_loss_curves, plot_manifold, plot_reconstructions  # noqa: E501

__all__ = [
    "plot_image_rows", "plot_latent_scatter", "plot_loss_curves", "plot_manifold", "plot_reconstructions",
    "plot_bootstrap_lines", "plot_chain_predictions", "plot_predictive_band", "plot_trace"]
