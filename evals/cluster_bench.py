"""`tutor grade --cluster`: what the cluster path costs, and whether the driver limits it.

    .venv/bin/python evals/cluster_bench.py real [--students 4]
    .venv/bin/python evals/cluster_bench.py simulated [--cost 0.2] [--per-worker 40]

`real`: one class through the real default model, graded by one process and then by
`--cluster local:2` (2 workers of 1 thread each, one model each), in one run; the answers per
minute of each (as `tutor grade` reports them: grading only) and the wall time with start-up
(Ray, two model loads). On 2 cores the workers share the same cores the one process uses, so the
point is the overhead, not a speed-up.

`simulated`: workers as Ray actor processes on a local instance, each answer costing a fixed
`--cost` seconds (the fake judge, slowed, one question so every answer has the same claims), for
1, 2, 4, 8 and 16 workers; beside it the rows per second the driver can write when grades cost
nothing (result lines built, written and fsync'd one by one, as in every run). The driver is not
the bottleneck while workers / cost stays well below that figure.
"""

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from tutor.core.bank import load_bank
from tutor.core.decide import PlainHead
from tutor.core.grader import grade
from tutor.core.judges.fake import FakeJudge
from tutor.core.judges.registry import ReliableJudge
from tutor.core.settings import Settings
from tutor.teacher.batch.cluster import Cluster, ClusterSpec, groups
from tutor.teacher.batch.command import grade_submissions
from tutor.teacher.batch.inputs import Inputs, Submission
from tutor.teacher.batch.run import BatchRun, Graded

ROOT = Path(__file__).resolve().parent.parent
WORKERS = (1, 2, 4, 8, 16)
QUESTION = "w06-thu-4"


def run_grade(class_csv: Path, out: Path, *more: str) -> tuple[float, float]:
    """(answers per minute as `tutor grade` reports it, wall seconds with start-up)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "tutor", "grade", str(class_csv), "--out", str(out), *more],
                          capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    rate = re.search(r"([\d.]+) answers/min", done.stdout)
    assert rate, done.stdout
    return float(rate[1]), wall


def real(students: int) -> None:
    sys.path.insert(0, str(ROOT))
    from tests.teacher.batch.classgen import write_class

    with tempfile.TemporaryDirectory() as folder:
        class_csv = Path(folder) / "class.csv"
        answers = len(write_class(class_csv, students=students))
        alone = run_grade(class_csv, Path(folder) / "alone")
        spread = run_grade(class_csv, Path(folder) / "spread", "--cluster", "local:2",
                           "--worker-threads", "1")
        same = (Path(folder) / "alone" / "results.jsonl").read_bytes() == \
            (Path(folder) / "spread" / "results.jsonl").read_bytes()
    print(f"{answers} answers, default model, {os.cpu_count()} cores")
    print(f"one process          {alone[0]:6.1f} answers/min  ({alone[1]:5.0f} s with start-up)")
    print(f"--cluster local:2    {spread[0]:6.1f} answers/min  ({spread[1]:5.0f} s with start-up)")
    print(f"ratio cluster / one process: {spread[0] / alone[0]:.2f} (grading), "
          f"{alone[1] / spread[1]:.2f} (wall); results.jsonl identical: {same}")


def write_one_question(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "question", "answer"])
        for row in range(rows):
            writer.writerow([f"s{row:06d}", QUESTION, f"GQA groups query heads to share KV heads ({row})."])


def driver_rows_per_second(rows: int) -> float:
    """The driver's own ceiling: grades that cost nothing (made once, handed back at once in
    groups, as workers do), each line keyed, written and fsync'd by `BatchRun.grade_all`."""
    bank = load_bank()
    judge, head = ReliableJudge(FakeJudge(record=False)), PlainHead()
    made = grade(bank.get(QUESTION), "GQA groups query heads to share KV heads.", judge, head)

    def instant(todo: Iterable[Submission]) -> Iterator[Graded]:
        for group in groups(todo):
            yield [(sub, made) for sub in group]

    with tempfile.TemporaryDirectory() as folder:
        class_csv = Path(folder) / "class.csv"
        write_one_question(class_csv, rows)
        subs = list(Inputs(bank, [class_csv]).submissions())
        run = BatchRun(bank, judge, Path(folder), head=head, grader=instant)
        start = time.perf_counter()
        count = sum(1 for _ in run.grade_all(run.pending(subs)))
        return count / (time.perf_counter() - start)


def simulated(cost: float, per_worker: int) -> None:
    import ray

    rubric = load_bank().get(QUESTION)
    probes = len(rubric.key_points) + len(rubric.misconceptions)
    os.environ["TUTOR_FAKE_DELAY"] = str(cost / probes)  # the fake sleeps per claim
    ceiling = driver_rows_per_second(3000)
    ray.init(num_cpus=max(WORKERS), include_dashboard=False, log_to_driver=False, configure_logging=False)
    print(f"fixed cost {cost:.2f} s an answer; the driver alone writes {ceiling:.0f} rows/s")
    print("workers  answers  ideal rows/s  measured rows/s  efficiency  share of the driver's ceiling")
    try:
        for workers in WORKERS:
            rows = per_worker * workers
            rate = simulated_run(workers, rows)
            ideal = workers / cost
            print(f"{workers:7d}  {rows:7d}  {ideal:12.1f}  {rate:15.1f}  {rate / ideal:9.0%}  "
                  f"{rate / ceiling:9.1%}")
    finally:
        ray.shutdown()


def simulated_run(workers: int, rows: int) -> float:
    """Rows per second of one `tutor grade --cluster local:WORKERS` run, grading time only
    (the workers are started, and their judges loaded, before the clock starts)."""
    bank = load_bank()
    with tempfile.TemporaryDirectory() as folder:
        class_csv = Path(folder) / "class.csv"
        write_one_question(class_csv, rows)
        cluster = Cluster(ClusterSpec(None, workers, 1), Settings(backend="fake"))
        judge = cluster.judge()
        try:
            summary = grade_submissions(bank, lambda: judge, [class_csv], Path(folder) / "out",
                                        cluster=_Started(cluster, judge))
        finally:
            cluster.close()
    return summary.made / summary.seconds


class _Started:
    """The cluster with its workers already up, so the run's clock measures grading alone."""

    def __init__(self, cluster: Cluster, judge: ReliableJudge):
        self.cluster, self.started = cluster, judge

    def judge(self) -> ReliableJudge:
        return self.started

    def grader(self, *args: object) -> object:
        return self.cluster.grader(*args)  # type: ignore[arg-type]  # (bank, head), passed on


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    one = sub.add_parser("real")
    one.add_argument("--students", type=int, default=4)
    many = sub.add_parser("simulated")
    many.add_argument("--cost", type=float, default=0.2, help="seconds per answer")
    many.add_argument("--per-worker", type=int, default=40, help="answers per worker")
    args = parser.parse_args()
    if args.what == "real":
        real(args.students)
    else:
        simulated(args.cost, args.per_worker)


if __name__ == "__main__":
    main()
