"""Plots the labs share: traces, histograms, regression bands, latent spaces.

Each function draws on matplotlib axes it creates (or is given) and returns the
figure, so notebooks show it and scripts can `savefig` it.
"""

from cs109b_bayes.plotting.mcmc import plot_trace
from cs109b_bayes.plotting.regression import plot_bootstrap_lines, plot_predictive_band

__all__ = ["plot_bootstrap_lines", "plot_predictive_band", "plot_trace"]
