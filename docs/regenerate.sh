#!/usr/bin/env bash
# Regenerates the README's figures (docs/*.png) and the golden baseline from the committed
# calibration. Run from the repository root after `make install`. Does not recalibrate:
# for that, see the calibrate command in docs/README.md.
set -euo pipefail
PY=.venv/bin/python
rm -rf results/baseline100 results/us_india results/sobol
$PY -m simulation run scenarios/baseline.yaml --runs 100 --parameters point --out results/baseline100
cp results/baseline100/alignment_over_time.png docs/baseline_alignment_over_time.png
cp results/baseline100/alignment_network.png docs/baseline_alignment_network.png
$PY -m simulation compare scenarios/baseline.yaml scenarios/us_india_ties_weaken.yaml --runs 200 --out results/us_india
cp results/us_india/comparison.png docs/us_india_comparison.png
$PY -m simulation sweep sweeps/weights_sobol.yaml --out results/sobol --workers 2
$PY -m simulation analyze results/sobol
cp results/sobol/analysis/sensitivity.png docs/sensitivity.png
if [ -f results/calibration/ablation.png ]; then
  cp results/calibration/ablation.png docs/ablation.png
  cp results/calibration/ablation.csv docs/ablation.csv
fi
$PY -m simulation run scenarios/baseline.yaml --seed 0 --parameters point --out results/golden --no-plots
cp results/golden/alignments.csv tests/golden/baseline_seed0_alignments.csv
echo "figures in docs/, golden file in tests/golden/"
