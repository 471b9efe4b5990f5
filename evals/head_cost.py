"""What the trained judge head costs per graded answer, side by side in one run.

    .venv/bin/python evals/head_cost.py [--answers 20]

Two local judges on the same model and the same answers, graded alternately (A B, B A, …) so
both see the same machine: today's path before the head (P(yes) and thresholds, no hidden
state read) and the new path (block-20 state captured at each probe's last token, the shipped
head applied). Prints seconds per answer for each and the ratio, which is the result.
"""

import argparse
import time

from tutor.core import model_store
from tutor.core.bank import load_bank
from tutor.core.decide import PlainHead
from tutor.core.grader import default_head, grade
from tutor.core.judges.local import LocalJudge
from tutor.teacher.evaluation import load_gold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=20)
    args = parser.parse_args()
    bank = load_bank()
    gold = [g for g in load_gold("dev") if g.category not in {"empty", "master_key"}]
    answers = gold[:: max(1, len(gold) // args.answers)][: args.answers]
    path = model_store.resolve(None)
    judges = {"before (P(yes), thresholds)": LocalJudge.load(path, block=None),
              "after (state + trained head)": LocalJudge.load(path)}
    heads = {"before (P(yes), thresholds)": PlainHead(),
             "after (state + trained head)": default_head(judges["after (state + trained head)"])}
    for judge in judges.values():
        judge.warm()
    seconds = dict.fromkeys(judges, 0.0)
    for i, answer in enumerate(answers):
        order = list(judges) if i % 2 == 0 else list(reversed(judges))
        for name in order:
            start = time.perf_counter()
            grade(bank.get(answer.question_id), answer.answer, judges[name], heads[name])
            seconds[name] += time.perf_counter() - start
    head = heads["after (state + trained head)"].name
    print(f"{len(answers)} dev answers, model {path.name}, head {head}")
    for name, total in seconds.items():
        print(f"{name:30} {total / len(answers):6.2f} s/answer")
    before, after = seconds.values()
    print(f"ratio after/before: x{after / before:.3f}")


if __name__ == "__main__":
    main()
