"""The deterministic numeric checks alone against the gold sets' `numeric` labels (no model).

    .venv/bin/python evals/numeric_gold.py [--split every] [--outcomes FILE.json]

Runs the grader's numeric step (the answer as `prepare` gives it, every check of its rubric at
once, as `tutor grade` does) over every gold answer whose rubric has numeric checks, and prints
the confusion against the examiner's labels, overall and for the attack categories. With
--outcomes it also writes {"answer id/check id": passed} so two versions can be compared (the
second run prints every outcome that changed).
"""

import argparse
import json
from collections import Counter
from pathlib import Path

from tutor.core.answer import prepare
from tutor.core.bank import load_bank
from tutor.core.grader import numeric_outcomes
from tutor.teacher.evaluation import load_gold


def outcomes(split: str) -> tuple[dict[str, bool], dict[str, bool], dict[str, str]]:
    """(key → check passed, key → examiner's label, key → category) for every labelled check."""
    bank = load_bank()
    passed: dict[str, bool] = {}
    labels: dict[str, bool] = {}
    categories: dict[str, str] = {}
    for gold in load_gold(split):
        checks = bank.get(gold.question_id).numeric
        for check, outcome in zip(checks, numeric_outcomes(checks, prepare(gold.answer)), strict=True):
            if check.id in gold.numeric:
                key = f"{gold.id}/{check.id}"
                passed[key], labels[key] = outcome.passed, gold.numeric[check.id]
                categories[key] = gold.category
    return passed, labels, categories


def confusion(keys: list[str], passed: dict[str, bool], labels: dict[str, bool]) -> str:
    counts = Counter((labels[k], passed[k]) for k in keys)
    return (f"{len(keys)} checks: label true → pass {counts[True, True]}, fail {counts[True, False]}; "
            f"label false → pass {counts[False, True]}, fail {counts[False, False]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="every", help="train, dev, test, all (dev+test) or every")
    parser.add_argument("--outcomes", type=Path, help="write outcomes here; if it exists, compare first")
    args = parser.parse_args()
    passed, labels, categories = outcomes(args.split)
    print(f"all      {confusion(list(passed), passed, labels)}")
    for category in ("numeric", "number_spraying"):
        keys = [k for k in passed if categories[k] == category]
        print(f"{category:8} {confusion(keys, passed, labels)}")
    if args.outcomes and args.outcomes.exists():
        before = json.loads(args.outcomes.read_text(encoding="utf-8"))
        for key in sorted(k for k in passed if k in before and before[k] != passed[k]):
            print(f"changed {key} ({categories[key]}, label {labels[key]}): "
                  f"{'pass' if before[key] else 'fail'} → {'pass' if passed[key] else 'fail'}")
    elif args.outcomes:
        args.outcomes.write_text(json.dumps(passed, indent=0, sort_keys=True), encoding="utf-8")


if __name__ == "__main__":
    main()
