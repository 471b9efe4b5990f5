"""Grading latency with and without prefix reuse, measured in one run.

    .venv/bin/python evals/latency.py [--answers 6] [--model default]

Prints seconds per graded answer and prompt tokens evaluated per answer for the
normal path (instructions cached per process, question + answer once per answer,
~30 tokens per claim) and for a baseline that evaluates every probe's whole
prompt from scratch, then the ratios. Ratios, not absolute times, are the result:
both configurations run on the same machine in the same process.
"""

import argparse
import time

from tutor.core import model_store
from tutor.core.bank import load_bank
from tutor.core.grader import grade
from tutor.core.judges.local import LocalJudge
from tutor.teacher.evaluation import load_gold


def measure(judge: LocalJudge, bank, answers) -> tuple[float, float, list]:
    judge.tokens_evaluated = 0
    start = time.perf_counter()
    grades = [grade(bank.get(a.question_id), a.answer, judge) for a in answers]
    seconds = time.perf_counter() - start
    return seconds / len(answers), judge.tokens_evaluated / len(answers), grades


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=6)
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    bank = load_bank()
    gold = [g for g in load_gold("dev") if g.category in {"strong", "partial"}]
    answers = gold[:: max(1, len(gold) // args.answers)][: args.answers]
    path = model_store.resolve(args.model)
    reuse = LocalJudge(path)
    reuse.warm()  # the per-process instructions are not part of any one answer's cost
    scratch = LocalJudge(path, reuse_prefix=False)
    fast = measure(reuse, bank, answers)
    slow = measure(scratch, bank, answers)
    same = sum(a.band == b.band for a, b in zip(fast[2], slow[2], strict=True))
    print(f"{len(answers)} answers, model {path.name}, {reuse.llm.n_threads} threads")
    print(f"prefix reuse:    {fast[0]:6.1f} s/answer  {fast[1]:7.0f} prompt tokens/answer")
    print(f"no prefix reuse: {slow[0]:6.1f} s/answer  {slow[1]:7.0f} prompt tokens/answer")
    print(f"speed-up x{slow[0] / fast[0]:.2f}, tokens x{slow[1] / fast[1]:.2f} fewer; "
          f"same band in {same}/{len(answers)}")


if __name__ == "__main__":
    main()
