"""The committed calibration's budget and shrinkage, as the rules in docs/validation-log.md chose them.

Kept apart from `calibrate` so that the command line can state them as its defaults without
importing the optimizer (and pandas) for a `--help`.
"""

#: Optimizer budget of the full model, in differential-evolution generations of population x free
#: parameters: the budget rule's choice (150 since 2026-12-06; 80 from 2026-12-04).
GENERATIONS = 150
#: Budget of each ablated variant (the budget rule gives the variants 60 for a budget not below 60).
ABLATION_GENERATIONS = 60
#: Shrinkage toward the theory's defaults (Objective.penalty): the shrinkage rule's choice (3 since
#: 2026-12-06; 1 from 2026-12-02).
PENALTY = 3.0
