"""The two README commands stay quick after the first run: an unchanged install is a no-op."""

import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STAMP = ROOT / ".venv" / ".tutor-install"


def test_an_unchanged_install_takes_no_time_and_prints_nothing():
    if not STAMP.exists():
        pytest.skip("this environment was not made by scripts/install.sh")
    start = time.perf_counter()
    result = subprocess.run(["make", "-s", "install"], cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")
    assert elapsed < 2.0
    assert STAMP.exists()  # still there: nothing was redone
