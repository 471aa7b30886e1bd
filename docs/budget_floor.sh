#!/usr/bin/env bash
# The budget rule's convergence floor (docs/validation-log.md, the amendment declared on 2026-12-03):
# fit 1947-1990 at 20, 40, 80 and 150 generations' evaluations x optimizer seeds 0, 1, 2 at the committed
# penalty (PENALTY, default 3) and find the smallest budget whose seeds' mean 1947-1990 score is within
# 0.005 of the best budget's mean. The fits' post-1990 columns are dropped unread: only the loss and the
# in-sample columns are kept, in docs/validation/budget_floor/fits.csv and summary.csv.
# Run from the repository root after the budget rule, before the shrinkage rule (CONTRIBUTING.md); the
# committed budget is the larger of the budget rule's choice and this floor. About 10 minutes on 2 cores.
set -euo pipefail
PYTHON=${PYTHON:-.venv/bin/python}
OUT=${OUT:-docs/validation/budget_floor}
BUDGETS=${BUDGETS:-20,40,80,150}
PENALTY=${PENALTY:-3.0}
started=$(date +%s)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$PYTHON" -m simulation calibrate --budget-spread "$BUDGETS" --spread-seeds 0,1,2 --fit-until 1990 \
    --penalty "$PENALTY" --population 10 --objective-seeds 4 --eval-seeds 100 --seed 0 --workers "${WORKERS:-2}" \
    --out "$tmp/spread" > /dev/null
mkdir -p "$OUT"
"$PYTHON" - "$tmp/spread/budget_spread.csv" "$OUT" <<'PY'
import sys
from pathlib import Path

import pandas as pd

fits = pd.read_csv(sys.argv[1])
fits = fits[[c for c in fits.columns if not c.startswith("out_")]]   # post-1990 columns, dropped unread
out = Path(sys.argv[2])
fits.to_csv(out / "fits.csv", index=False, float_format="%.6f")
table = fits.groupby("generations").agg(loss_mean=("loss", "mean"), in_score_mean=("in_score", "mean"),
                                        in_score_min=("in_score", "min"), in_score_max=("in_score", "max"))
table.to_csv(out / "summary.csv", float_format="%.4f")
print(table.to_string(float_format="%.4f"))
best = table.in_score_mean.max()
print(f"floor (smallest budget within 0.005 of the best mean 1947-1990 score): "
      f"{table.index[table.in_score_mean >= best - 0.005].min()}")
PY
echo "budget floor: $(( $(date +%s) - started )) s"
