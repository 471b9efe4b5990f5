"""`tutor grade`, end to end: read, grade what is not done yet, write every output."""

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tutor.bank import Bank
from tutor.batch.inputs import Rejected, read_submissions
from tutor.batch.outputs import write_all
from tutor.batch.run import BatchRun, answers_per_minute, progress_bar
from tutor.errors import TutorError


@dataclass(frozen=True)
class Summary:
    graded: int
    failed: int
    skipped: int
    made: int
    seconds: float

    def line(self, out: Path) -> str:
        rate = answers_per_minute(self.made, self.seconds)
        return (f"graded {self.graded}, failed {self.failed}, skipped {self.skipped} (done before), "
                f"{self.seconds:.0f} s, {rate:.1f} answers/min → {out}")


def grade_submissions(bank: Bank, load_judge: Callable, targets: list[Path], out: Path,
                      concurrency: int = 1, retry_errors: bool = False) -> Summary:
    missing = [p for p in targets if not p.exists()]
    if missing:
        raise TutorError(f"{missing[0]}: no such file or folder")
    rows = read_submissions(bank, targets)
    rejected = [r for r in rows if isinstance(r, Rejected)]
    subs = [r for r in rows if not isinstance(r, Rejected)]
    for item in rejected:
        print(f"tutor: skipped {item.source}: {item.reason}", file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    run = BatchRun(bank, load_judge(), out, concurrency=concurrency)
    todo = run.pending(subs, retry_errors)
    start = time.perf_counter()
    with progress_bar() as progress:
        made = list(run.grade_all(todo, progress))
    seconds = time.perf_counter() - start
    final = run.finalize(subs)
    write_all(out, bank, final, rejected)
    failed = sum(r["status"] != "graded" for r in final) + len(rejected)
    graded = sum(r["status"] == "graded" for r in made)
    return Summary(graded, failed, len(subs) - len(todo), len(made), seconds)
