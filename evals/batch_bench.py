"""Answers per minute in `tutor grade`: today's passes against the new ones, in one run.

    .venv/bin/python evals/batch_bench.py [--answers 24]

Both run `tutor grade`'s own path (BatchRun: same-question answers back to back, the local
judge reusing the instructions and question prefix) over the same answers, in one process:
today's judge evaluates each answer as one segment and each claim's probe as its own small
batch; the new one evaluates the answer line by line (as a learner's typing does) and all of an
answer's probes in shared passes. The result is the ratio of answers/min, with prompt tokens
per answer and the number of answers graded into a different band.
"""

import argparse
import tempfile
import time
from pathlib import Path

from bench_runtime import BenchRuntime

from tutor.core import model_store
from tutor.core.bank import Bank, load_bank
from tutor.core.grader import default_head
from tutor.core.judges.local import LocalJudge
from tutor.core.judges.registry import ReliableJudge
from tutor.teacher.batch.inputs import Submission
from tutor.teacher.batch.run import BatchRun
from tutor.teacher.evaluation import load_gold


def run(bank: Bank, runtime: BenchRuntime, subs: list[Submission]) -> tuple[float, float, list[str]]:
    """(answers/min, prompt tokens per answer, bands) through the batch path."""
    start, tokens = time.perf_counter(), runtime.tokens_evaluated
    judge = LocalJudge(runtime)
    with tempfile.TemporaryDirectory() as out:
        batch = BatchRun(bank, ReliableJudge(judge), Path(out), head=default_head(judge))
        grades = [line["band"] for line in batch.grade_all(batch.pending(subs, False))]
    seconds = time.perf_counter() - start
    return len(subs) / seconds * 60, (runtime.tokens_evaluated - tokens) / len(subs), grades


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=24)
    parser.add_argument("--streams", type=int, default=1, help="probes decoded together (new path)")
    parser.add_argument("--line-segments", action="store_true", help="each answer line its own segment")
    args = parser.parse_args()
    bank = load_bank()
    gold = [g for g in load_gold("dev") if g.category in {"strong", "partial", "wrong", "reversed"}]
    picked = gold[:: max(1, len(gold) // args.answers)][: args.answers]
    subs = [Submission(g.id, g.id, g.question_id, g.answer) for g in picked]
    path = model_store.resolve("default")
    today = BenchRuntime(path)
    new = BenchRuntime(path, streams=args.streams, line_segments=args.line_segments)
    for runtime in (today, new):
        runtime.warm()
    old_rate, old_tokens, old_grades = run(bank, today, subs)
    new_rate, new_tokens, new_grades = run(bank, new, subs)
    moved = sum(a != b for a, b in zip(old_grades, new_grades, strict=True))
    print(f"{len(subs)} answers over {len({s.question_id for s in subs})} questions, model {path.name}")
    print(f"today: {old_rate:6.2f} answers/min, {old_tokens:5.0f} prompt tokens/answer")
    print(f"new:   {new_rate:6.2f} answers/min, {new_tokens:5.0f} prompt tokens/answer")
    print(f"ratio x{new_rate / old_rate:.2f}; {moved} of {len(subs)} answers in another band")


if __name__ == "__main__":
    main()
