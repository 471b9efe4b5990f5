"""Answers per minute: the batch path against one-at-a-time grading with no prefix reuse.

    .venv/bin/python evals/batch_bench.py [--answers 12]

The batch path is `tutor grade`'s own (BatchRun: same-question answers back to
back, the local judge reusing the instructions and question prefix, a cache for
repeated answers); the baseline grades the same answers one by one, evaluating
every probe's whole prompt from scratch. Both run here, in one process, and the
result is their ratio.
"""

import argparse
import tempfile
import time
from pathlib import Path

from tutor.core import model_store
from tutor.core.bank import load_bank
from tutor.core.grader import grade
from tutor.core.judges.local import LocalJudge
from tutor.core.judges.registry import ReliableJudge
from tutor.teacher.batch.inputs import Submission
from tutor.teacher.batch.run import BatchRun
from tutor.teacher.evaluation import load_gold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=12)
    args = parser.parse_args()
    bank = load_bank()
    gold = [g for g in load_gold("dev") if g.category in {"strong", "partial", "wrong", "reversed"}]
    picked = gold[:: max(1, len(gold) // args.answers)][: args.answers]
    subs = [Submission(g.id, g.id, g.question_id, g.answer) for g in picked]
    path = model_store.resolve("default")

    batch_judge = ReliableJudge(LocalJudge(path))
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        run = BatchRun(bank, batch_judge, Path(out))
        list(run.grade_all(run.pending(subs, False)))
    batch = time.perf_counter() - start

    scratch = LocalJudge(path, reuse_prefix=False)
    start = time.perf_counter()
    for sub in subs:
        grade(bank.get(sub.question_id), sub.answer, scratch)
    baseline = time.perf_counter() - start

    rate = len(subs) / batch * 60
    base_rate = len(subs) / baseline * 60
    print(f"{len(subs)} answers over {len({s.question_id for s in subs})} questions, model {path.name}")
    print(f"batch path:                    {rate:6.2f} answers/min (model load included)")
    print(f"one at a time, no prefix reuse: {base_rate:6.2f} answers/min (model load included)")
    print(f"ratio x{rate / base_rate:.2f}")


if __name__ == "__main__":
    main()
