"""`tutor grade` end to end: a killed batch resumes to the same files (fake judge, slowed)."""

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.edge.test_cli import tutor
from tests.teacher.batch.classgen import write_class

FILES = ("results.jsonl", "gradebook.csv", "report.html", "problems.csv")
SLOW = {"TUTOR_FAKE_DELAY": "0.01"}


def tutor_grade(csv_path: Path, out: Path):
    """`tutor grade` in this process, at full speed: the files do not depend on the delay."""
    return tutor("--backend", "fake", "grade", str(csv_path), "--out", str(out))


def tutor_grade_process(csv_path: Path, out: Path) -> subprocess.Popen:
    """`tutor grade` in a process of its own, slowed, for a test to kill mid-run."""
    return subprocess.Popen([sys.executable, "-m", "tutor", "--backend", "fake", "grade", str(csv_path),
                             "--out", str(out)], env={**os.environ, **SLOW}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def snapshot(folder: Path) -> dict[str, bytes]:
    files = [folder / f for f in FILES] + sorted((folder / "feedback").iterdir())
    return {str(p.relative_to(folder)): p.read_bytes() for p in files}


def test_killed_batch_resumes_to_identical_files(tmp_path):
    class_csv = tmp_path / "class.csv"
    write_class(class_csv, students=12)
    straight = tutor_grade(class_csv, tmp_path / "straight")
    assert straight.returncode == 0, straight.stderr
    # A subprocess: the run is killed (SIGKILL) mid-write, which only a separate process survives.
    victim = tutor_grade_process(class_csv, tmp_path / "resumed")
    results = tmp_path / "resumed" / "results.jsonl"
    deadline = time.monotonic() + 120
    while not (results.exists() and results.read_text().count("\n") >= 10):
        assert time.monotonic() < deadline and victim.poll() is None
        time.sleep(0.05)
    victim.kill()
    victim.wait()
    written = results.read_text().count("\n")
    assert 10 <= written < 60
    resumed = tutor_grade(class_csv, tmp_path / "resumed")
    assert resumed.returncode == 0, resumed.stderr
    assert f"skipped {written}" in resumed.stdout
    assert snapshot(tmp_path / "resumed") == snapshot(tmp_path / "straight")
    lines = results.read_text().splitlines()
    assert len(lines) == len(set(lines)) == 60


def test_rejected_rows_are_reported_and_exit_1(tmp_path):
    class_csv = tmp_path / "class.csv"
    class_csv.write_text("student,question,answer\nann,w06-thu-4,GQA shares KV heads\nbob,nope,x\n")
    result = tutor_grade(class_csv, tmp_path / "out")
    assert result.returncode == 1
    assert f"tutor: skipped {class_csv}:3: unknown question 'nope'" in result.stderr
    assert "graded 1, skipped 0 (done before), 1 row set aside (problems.csv), " in result.stdout
    assert "unknown question" in (tmp_path / "out" / "problems.csv").read_text()
