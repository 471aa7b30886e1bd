"""Experiments on the model: scenarios, runs, comparisons, sweeps, calibration and the score."""
