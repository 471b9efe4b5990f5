"""Rows per second and peak memory of `tutor grade` as a class grows (fake judge, no model).

    .venv/bin/python evals/batch_scale.py [--rows 50000] [--small 5000]

Each size runs in a fresh process (its peak resident memory, ru_maxrss, is its own) from a
fresh CSV and --out folder; the two peaks side by side show whether memory stays flat as
the class grows. Rows/s includes the fsync of every result line, as in a real batch.
"""

import argparse
import csv
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tutor.core.bank import Bank, load_bank
from tutor.core.judges.fake import FakeJudge
from tutor.teacher.batch.command import grade_submissions

ANSWER = ("{name} thinks GQA splits the query heads into groups and each group shares one key/value "
          "head, so the KV cache shrinks by the group size; attempt {row}.")


def write_class(path: Path, bank: Bank, rows: int, questions: int = 5) -> None:
    ids = [r.id for r in bank.rubrics[:questions]]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "question", "answer"])
        for row in range(rows):
            name = f"student{row // len(ids):06d}"
            writer.writerow([name, ids[row % len(ids)], ANSWER.format(name=name, row=row)])


def grade_class(rows: int) -> None:
    """In this process: grade `rows` answers, print rows/s and peak resident MiB."""
    bank = load_bank()
    with tempfile.TemporaryDirectory() as folder:
        class_csv = Path(folder) / "class.csv"
        write_class(class_csv, bank, rows)
        start = time.perf_counter()
        grade_submissions(bank, lambda: FakeJudge(record=False), [class_csv], Path(folder) / "out")
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"{rows:>7} rows: {rows / seconds:7.0f} rows/s, peak {peak:6.0f} MiB resident")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--small", type=int, default=5_000)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child process's size
    args = parser.parse_args()
    if args.one:
        grade_class(args.one)
        return
    for rows in (args.small, args.rows):
        subprocess.run([sys.executable, __file__, "--one", str(rows)], check=True,
                       stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
