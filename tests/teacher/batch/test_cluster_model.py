"""`tutor grade --cluster local:2` through the real default model: the same folder as one process.

Two workers of one thread each against one process of all the cores: llama.cpp's arithmetic
does not depend on the thread count or on which answers a worker evaluated before (the prompt
is always evaluated in the same segments), so on one machine the grades, and every result line
with its P(yes) and hidden states, are bit-identical."""

import subprocess
import sys

import pytest

from tests.teacher.batch.classgen import write_class
from tests.teacher.batch.test_batch_cli import snapshot

pytestmark = pytest.mark.model
pytest.importorskip("ray", reason="the cluster extra (ray) is not installed")


def grade(csv_path, out, *more):
    return subprocess.run([sys.executable, "-m", "tutor", "grade", str(csv_path), "--out", str(out), *more],
                          capture_output=True, text=True, timeout=1800)


def test_a_small_class_on_two_workers_grades_as_one_process(tmp_path):
    plan = write_class(tmp_path / "class.csv", students=2)  # 10 answers, 5 questions
    alone = grade(tmp_path / "class.csv", tmp_path / "alone")
    spread = grade(tmp_path / "class.csv", tmp_path / "spread", "--cluster", "local:2")
    assert alone.returncode == spread.returncode == 0, spread.stderr
    assert f"graded {len(plan)}, skipped 0" in spread.stdout
    assert snapshot(tmp_path / "spread") == snapshot(tmp_path / "alone")
