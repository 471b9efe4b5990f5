"""`tutor grade --cluster`: the answers graded by Ray workers, the folder the same as one process's.

A real local Ray instance (2 CPUs), started once for the module (Ray takes seconds to start);
the workers hold the fake judge, so each case is about orchestration and faults: a worker
killed mid-batch (its answers sent again, none written twice), a judge that fails on some
answers (those rows ungraded with the reason, as in one process), the driver killed (the same
command resumes), and addresses with no cluster behind them (one line)."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.edge.test_cli import assert_one_line_error, tutor
from tests.teacher.batch.classgen import write_class
from tests.teacher.batch.test_batch_cli import snapshot, tutor_grade
from tutor.core.errors import ExitCode

ray = pytest.importorskip("ray", reason="the cluster extra (ray) is not installed")
SLOW = "0.02"  # seconds per claim: a 60-answer class takes a few seconds on 2 workers


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """One Ray instance for the module; each run's workers are started and ended by the run."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def class_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("class") / "class.csv"
    write_class(path, students=12)  # 60 answers to 5 questions
    return path


def cluster_grade(csv_path: Path, out: Path, env: dict[str, str | None] | None = None):
    return tutor("--backend", "fake", "grade", str(csv_path), "--out", str(out), "--cluster", "local:2",
                 env=env)


def lines_of(path: Path) -> int:
    return path.read_text().count("\n") if path.exists() else 0


def test_the_cluster_makes_the_folder_one_process_makes(class_csv, tmp_path):
    alone = tutor_grade(class_csv, tmp_path / "alone")
    spread = cluster_grade(class_csv, tmp_path / "spread")
    assert alone.returncode == spread.returncode == 0, spread.stderr
    assert "graded 60, skipped 0" in spread.stdout
    assert snapshot(tmp_path / "spread") == snapshot(tmp_path / "alone")
    again = cluster_grade(class_csv, tmp_path / "spread")  # resume: nothing left, nothing sent
    assert "graded 0, skipped 60" in again.stdout


def judge_workers(home: Path) -> list[int]:
    """The pids of this test's judge workers (Ray names their processes after the actor; the
    forwarded TUTOR_HOME tells this test's from any other's)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            title = (entry / "cmdline").read_bytes()
            env = (entry / "environ").read_bytes()
        except OSError:
            continue
        if title.startswith(b"ray::JudgeWorker") and f"TUTOR_HOME={home}".encode() in env.split(b"\0"):
            found.append(int(entry.name))
    return found


def kill_a_worker_after(results: Path, written: int, home: Path, killed: list[int]) -> None:
    """SIGKILL one judge worker once `written` result lines exist (the batch is mid-way)."""
    deadline = time.monotonic() + 120
    while lines_of(results) < written and time.monotonic() < deadline:
        time.sleep(0.02)
    workers = judge_workers(home)
    if workers:
        os.kill(workers[0], signal.SIGKILL)
        killed.append(lines_of(results))


def test_a_killed_worker_has_its_answers_sent_again_and_none_written_twice(class_csv, tmp_path,
                                                                          tutor_home):
    straight = tutor_grade(class_csv, tmp_path / "straight")
    results, killed = tmp_path / "spread" / "results.jsonl", []
    killer = threading.Thread(target=kill_a_worker_after, args=(results, 10, tutor_home, killed))
    killer.start()
    spread = cluster_grade(class_csv, tmp_path / "spread", env={"TUTOR_FAKE_DELAY": SLOW})
    killer.join()
    assert killed and killed[0] < 60, "no worker was killed mid-batch"
    assert spread.returncode == straight.returncode == 0, spread.stderr
    assert "lost (" in spread.stderr and "sent again" in spread.stderr
    assert "graded 60, skipped 0" in spread.stdout
    lines = results.read_text().splitlines()
    assert len(lines) == len(set(lines)) == 60
    assert snapshot(tmp_path / "spread") == snapshot(tmp_path / "straight")


def test_a_failing_judge_leaves_its_rows_ungraded_with_the_reason_as_one_process(class_csv, tmp_path):
    fail = {"TUTOR_FAKE_FAIL": "KV cache"}  # in some answers of two questions
    alone = tutor("--backend", "fake", "grade", str(class_csv), "--out", str(tmp_path / "alone"), env=fail)
    spread = cluster_grade(class_csv, tmp_path / "spread", env=fail)
    assert alone.returncode == spread.returncode == ExitCode.PROBLEMS
    problems = (tmp_path / "spread" / "problems.csv").read_text()
    assert problems.count("the fake judge failed on this answer") == sum(
        "KV cache" in row for row in class_csv.read_text().splitlines()) > 0
    assert snapshot(tmp_path / "spread") == snapshot(tmp_path / "alone")


def test_a_killed_driver_resumes_to_the_same_folder(class_csv, tmp_path):
    straight = tutor_grade(class_csv, tmp_path / "straight")
    results = tmp_path / "resumed" / "results.jsonl"
    victim = subprocess.Popen(  # its own local Ray, in its own session: killed whole below
        [sys.executable, "-m", "tutor", "--backend", "fake", "grade", str(class_csv), "--out",
         str(tmp_path / "resumed"), "--cluster", "local:2"], env={**os.environ, "TUTOR_FAKE_DELAY": SLOW},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while lines_of(results) < 10:
            assert time.monotonic() < deadline and victim.poll() is None
            time.sleep(0.02)
    finally:
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
    written = lines_of(results)
    assert 10 <= written < 60
    resumed = cluster_grade(class_csv, tmp_path / "resumed")
    assert resumed.returncode == straight.returncode == 0, resumed.stderr
    assert f"skipped {written}" in resumed.stdout
    assert snapshot(tmp_path / "resumed") == snapshot(tmp_path / "straight")


@pytest.mark.parametrize(("address", "fragment"), [
    ("127.0.0.1:1", "--cluster 127.0.0.1:1: cannot reach a Ray cluster there"),
    ("ray://head:10001", "Ray Client (ray://) is not supported"),
    ("local:0", "the number of local workers must be 1 to 256"),
    ("headnode", "write local, local:N, auto, or a Ray cluster's HOST:PORT"),
])
def test_a_cluster_that_cannot_be_used_is_one_line(class_csv, tmp_path, address, fragment):
    result = tutor("--backend", "fake", "grade", str(class_csv), "--out", str(tmp_path / "out"),
                   "--cluster", address)
    assert_one_line_error(result, ExitCode.BAD_INPUT, fragment)
    assert not (tmp_path / "out" / "results.jsonl").exists()


def test_workers_that_cannot_load_their_judge_stop_the_run_in_one_line(class_csv, tmp_path):
    missing = tmp_path / "no-such-model.gguf"
    result = tutor("--model", str(missing), "grade", str(class_csv), "--out", str(tmp_path / "out"),
                   "--cluster", "local:2")
    assert result.stderr.count("left out: model file") == 2  # each worker says why, then the run stops
    assert result.returncode == ExitCode.MODEL
    assert result.stderr.strip().splitlines()[-1] == (
        f"tutor: error: no worker could load its judge: model file {missing}: No such file or directory")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "results.jsonl").exists()
