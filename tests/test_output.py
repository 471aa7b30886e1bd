"""The result tables are written without pandas, byte for byte as pandas' to_csv wrote them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.engine.inputs import read_table
from simulation.interfaces.output import write_columns, write_csv


def test_write_columns_writes_what_pandas_wrote(tmp_path):
    columns = {
        "run": np.array([0, 7, 2**63 - 1], dtype=np.int64),
        "year": 1947,  # one value for every row
        "code": np.array(["AFG", "", "a,b"]),
        "text": np.array(['say "no"', "line\nbreak", "plain"], dtype=object),
        "value": np.array([-0.0, np.nan, 1 / 3]),
        "tiny": np.array([-1e-9, 5e-7, 123456.7890125]),
    }
    write_columns(columns, tmp_path / "ours.csv")
    write_csv(pd.DataFrame(columns), tmp_path / "pandas.csv")
    assert (tmp_path / "ours.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()


def test_read_table_types_each_column_as_a_whole(tmp_path):
    """Whole numbers, numbers (empty cells NaN), text (empty cells None), blank lines skipped."""
    path = tmp_path / "t.csv"
    path.write_text('a,n,x,s\nIND,1,0.5,text\n\nPAK,2,,"q, r"\n001,3,2,\n')
    rows = read_table(path, ["a", "n"], text=("a",))
    assert tuple(rows[0]) == ("IND", 1, 0.5, "text") and isinstance(rows[0].n, int)
    assert rows[1].s == "q, r" and np.isnan(rows[1].x)
    assert rows[2].a == "001" and rows[2].s is None
