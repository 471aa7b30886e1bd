#!/usr/bin/env bash
# Regenerates the README's figures (docs/*.png) and the golden baseline from the committed
# calibration. Run from the repository root after `make install`. Does not recalibrate:
# for that, see the calibrate command in docs/README.md.
set -euo pipefail
PY=.venv/bin/python
rm -rf results/baseline100 results/us_india results/us_india_theories results/why_rus_pak results/why_ind_usa results/sobol
$PY -m simulation run scenarios/baseline.yaml --runs 100 --parameters point --out results/baseline100
cp results/baseline100/alignment_over_time.png docs/baseline_alignment_over_time.png
cp results/baseline100/alignment_network.png docs/baseline_alignment_network.png
$PY -m simulation compare scenarios/baseline.yaml scenarios/us_india_ties_weaken.yaml --runs 200 --out results/us_india
cp results/us_india/comparison.png docs/us_india_comparison.png
$PY -m simulation compare scenarios/baseline.yaml scenarios/us_india_ties_weaken.yaml --runs 200 --theories --out results/us_india_theories
cp results/us_india_theories/theories.png docs/us_india_theories.png
$PY -m simulation explain scenarios/baseline.yaml --pair RUS PAK --from 1986 --to 2006 --out results/why_rus_pak
cp results/why_rus_pak/explanation.png docs/explain_rus_pak.png
$PY -m simulation explain scenarios/baseline.yaml --pair IND USA --from 1998 --to 2018 --out results/why_ind_usa
cp results/why_ind_usa/explanation.png docs/explain_ind_usa.png
$PY -m simulation sweep sweeps/weights_sobol.yaml --out results/sobol --workers 2
$PY -m simulation analyze results/sobol
cp results/sobol/analysis/sensitivity.png docs/sensitivity.png
if [ -f results/calibration/ablation.png ]; then
  cp results/calibration/ablation.png docs/ablation.png
  cp results/calibration/ablation.csv docs/ablation.csv
fi
if [ -f results/posterior/summary.json ]; then
  cp results/posterior/summary.json docs/posterior_summary.json
  cp results/posterior/marginals.png docs/posterior_marginals.png
  cp results/posterior/predictive_check.png docs/posterior_predictive_check.png
fi
$PY -m simulation run scenarios/baseline.yaml --seed 0 --parameters point --out results/golden --no-plots
cp results/golden/alignments.csv tests/golden/baseline_seed0_alignments.csv
echo "figures in docs/, golden file in tests/golden/"
