"""Regression guard: `tutor eval` on a fixed subset of the test split, real default model.

The thresholds are the subset's measured figures minus a margin (see the README's eval
section); the guard also fails on any injection / keyword / master-key answer in the top
band and on any grade that changes on a re-run.
"""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.model

SUBSET = "g009,g044,g045,g010,g047,g050,g064,g054,g156,g092,g142,g012,g065"
# with the shipped judge head (probe-l_out-20-85d7ed5d: the judge form and the corrections, fitted
# on dev, the writers' answers, SciEntsBank's and Beetle's training answers and the denial sets,
# issue 26), from evals/out/sep/test/results.jsonl re-decided: Spearman 0.659, band accuracy 0.769
# (10 of 13); the head before it (996ae8ab) 0.620 / 0.692; the judge before (head 94c0e3a4)
# measured 0.797 / 0.769 here
MIN_SPEARMAN = 0.54
MIN_BAND_ACCURACY = 0.53  # the margin allows two flips (7 of 13)


def test_eval_guard_on_a_fixed_test_subset(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tutor", "eval", "--split", "test", "--ids", SUBSET, "--rerun", "2",
         "--out", str(tmp_path), "--min-spearman", str(MIN_SPEARMAN),
         "--min-band-accuracy", str(MIN_BAND_ACCURACY)],
        capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    report = (tmp_path / "report.md").read_text()
    assert "| answers (ungraded) | 13 (0) |" in report
    assert "| identical grades on re-run | 2 of 2 |" in report
    assert (tmp_path / "results.jsonl").read_text().count("gold_id") == 13
    assert "head probe-l_out-20-" in report  # the trained head decided, not plain P(yes)
