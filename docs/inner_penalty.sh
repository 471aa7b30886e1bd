#!/usr/bin/env bash
# The validation inside 1947-1990 that chooses the shrinkage penalty (docs/validation-log.md, the rule
# declared on 2026-12-02): fit 1947-O for origins 1960, 1970, 1980 at the committed budget (GENERATIONS,
# the budget rule's choice: 150 generations' evaluations since 2026-12-06; 80 from 2026-12-04, 150 from the amendment of 2026-12-03, 20 and 80 before) x
# optimizer seeds 0, 1, 2 at penalties 0.3, 1, 3, 10; score O+1..1990; the highest mean over the
# origins of the seeds' mean wins (ties within 0.005: the smaller). No year after 1990 is read.
# Run from the repository root; writes docs/validation/inner_penalty_origins/ (one folder per fit
# set and summary.csv). Rerun after a model change, before the refit (CONTRIBUTING.md).
set -euo pipefail
PYTHON=${PYTHON:-.venv/bin/python}
OUT=${OUT:-docs/validation/inner_penalty_origins}
ORIGINS=${ORIGINS:-1960 1970 1980}
PENALTIES=${PENALTIES:-0.3 1 3 10}
GENERATIONS=${GENERATIONS:-150}
mkdir -p "$OUT"
started=$(date +%s)
for origin in $ORIGINS; do
  for penalty in $PENALTIES; do
    "$PYTHON" -m simulation calibrate --budget-spread "$GENERATIONS" --spread-seeds 0,1,2 --fit-until "$origin" \
        --penalty "$penalty" --population 10 --objective-seeds 4 --eval-seeds 100 --workers "${WORKERS:-2}" \
        --force --out "$OUT/${origin}_penalty_${penalty}" > /dev/null
  done
done
"$PYTHON" - "$OUT" <<'PY'
import sys
from pathlib import Path

import pandas as pd

out = Path(sys.argv[1])
rows = []
for folder in sorted(p for p in out.iterdir() if p.is_dir()):
    origin, _, penalty = folder.name.partition("_penalty_")
    fits = pd.read_csv(folder / "budget_spread.csv")
    rows.append({"origin": int(origin), "penalty": float(penalty), "test_score_mean": fits.out_score.mean(),
                 "test_score_min": fits.out_score.min(), "test_score_max": fits.out_score.max(),
                 "fit_score_mean": fits.in_score.mean(), "loss_mean": fits.loss.mean()})
table = pd.DataFrame(rows).sort_values(["penalty", "origin"])
table.to_csv(out / "summary.csv", index=False, float_format="%.4f")
by_penalty = table.groupby("penalty").test_score_mean.mean()
print(table.to_string(index=False, float_format="%.3f"))
print("\nmean over origins of the seeds' mean test score, per penalty:")
print(by_penalty.to_string(float_format="%.4f"))
best = by_penalty.max()
print(f"chosen (highest; ties within 0.005: the smaller): {by_penalty[by_penalty >= best - 0.005].index.min():g}")
PY
echo "inner penalty validation: $(( $(date +%s) - started )) s"
