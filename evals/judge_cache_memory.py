"""Peak memory of `tutor grade` with real-sized signals: the judge's cache bounded, as shipped,
against the cache it had before (every answer of the run kept).

    .venv/bin/python evals/judge_cache_memory.py [--rows 3000]

The fake judge gives each claim what the local judge gives: P(yes) and a hidden state of
1,536 float64 values (12 KiB a claim, about 90 KiB an answer of 7 claims). Each variant runs
in a fresh process (its peak resident memory, ru_maxrss, is its own) on the same class; the
unbounded one is the shipped `ReliableJudge` given a cache as large as the class, which is what
the cache was before it was bounded. Answers are all different, as in a real class.
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from batch_scale import write_class

from tutor.core.bank import load_bank
from tutor.core.judges.base import JudgeRequest
from tutor.core.judges.fake import FakeJudge
from tutor.core.judges.registry import CACHE_SIZE, ReliableJudge
from tutor.core.signals import OnSignals, Signals
from tutor.teacher.batch.command import grade_submissions

HIDDEN = 1536  # the default model's hidden size: floats per claim's state


class HiddenStateJudge(FakeJudge):
    """FakeJudge's probabilities, each with a real-sized hidden state (as the local judge gives)."""

    def judge(self, request: JudgeRequest, on_signals: OnSignals | None = None) -> list[Signals]:
        rng = np.random.default_rng()
        return [Signals(s.p_yes, rng.standard_normal(HIDDEN))  # float64, as llama_runtime stores it
                for s in super().judge(request, on_signals)]


def peak_mib(rows: int, cache_size: int) -> float:
    """In this process: grade `rows` answers; the peak resident MiB."""
    import resource

    bank = load_bank()
    with tempfile.TemporaryDirectory() as folder:
        class_csv = Path(folder) / "class.csv"
        write_class(class_csv, bank, rows)
        grade_submissions(bank, lambda: ReliableJudge(HiddenStateJudge(record=False), cache_size=cache_size),
                          [class_csv], Path(folder) / "out")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measured(rows: int, cache_size: int) -> float:
    out = subprocess.run([sys.executable, __file__, "--rows", str(rows),
                          "--one", str(cache_size)], check=True, capture_output=True, text=True)
    return float(out.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3_000)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child process's cache size
    args = parser.parse_args()
    if args.one:
        print(f"{peak_mib(args.rows, args.one):.1f}")
        return
    bounded, unbounded = measured(args.rows, CACHE_SIZE), measured(args.rows, args.rows)
    print(f"{args.rows} answers, {HIDDEN}-float hidden state per claim; peak resident memory:")
    print(f"  cache bounded at {CACHE_SIZE} answers (shipped): {bounded:7.0f} MiB")
    print(f"  cache of the whole run (before):         {unbounded:7.0f} MiB")
    print(f"  before / after: {unbounded / bounded:.2f}×, {unbounded - bounded:.0f} MiB saved")


if __name__ == "__main__":
    main()
