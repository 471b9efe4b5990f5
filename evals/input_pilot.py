"""Two judge inputs compared on the same answers, each with its own head (issue 26 item 4, issue
16): each quarter of the questions graded by a head fitted, by the shipped recipe, on the other
quarters' answers of the same run, so that an input is judged by what a head can read from it,
not by a head fitted to another input. Plain P(yes) is shown beside it. No model call.

    TUTOR_PROMPTS=evals/prompts/numbered tutor eval --split dev --out evals/out/num/dev
    .venv/bin/python evals/input_pilot.py --run shipped=evals/out/sep/dev/results.jsonl \\
        --run numbered=evals/out/num/dev/results.jsonl \\
        [--refs shipped=evals/out/sep/refs/results.jsonl --refs numbered=evals/out/num/refs/results.jsonl \\
         --refs-labelled evals/out/refs/labelled.jsonl]
"""

import argparse
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evals.reference_fit import FOLDS, fitted, fold_of, full_by_form, parted  # noqa: E402
from tutor.core.bank import Bank, load_bank  # noqa: E402
from tutor.core.decide import PlainHead  # noqa: E402
from tutor.teacher.evaluation import EvalRun, joined, load_labelled, load_run, metrics, rescore_run  # noqa: E402


def cross_fitted(bank: Bank, run: EvalRun) -> EvalRun:
    """Every answer graded by a head fitted without its question's quarter."""
    fold = fold_of([g.question_id for g in run.gold])
    graded = []
    for f in range(FOLDS):
        rest, held = parted(run, lambda g: fold(g.question_id), f)
        graded.append(rescore_run(bank, held, fitted(bank, rest, None)))
    return joined(graded)


def within_answers(run: EvalRun) -> float:
    """Of the (stated, not stated) pairs of key points in one answer, the share the judge orders
    rightly (ties half): whether it reads each claim, not only how good the answer is overall."""
    right = pairs = 0.0
    for gold, grade in zip(run.gold, run.grades, strict=True):
        p = {v.point_id: v.confidence for v in grade.verdicts if v.kind == "key_point"}
        stated = [p[k] for k, v in gold.key_points.items() if v and k in p]
        missing = [p[k] for k, v in gold.key_points.items() if not v and k in p]
        for a, b in itertools.product(stated, missing):
            right += 1.0 if a > b else 0.5 if a == b else 0.0
            pairs += 1
    return right / pairs if pairs else float("nan")


def row(name: str, run: EvalRun) -> str:
    m = metrics(run)
    kp, mc = m.key_point, m.misconception
    return (f"| {name} | {m.spearman:.3f} | {m.band_accuracy:.3f} | {kp.auc:.3f} / {kp.f1:.3f} "
            f"| {within_answers(run):.3f} | {mc.auc:.3f} / {mc.f1:.3f} |")


def named(values: list[str]) -> dict[str, Path]:
    return {name: Path(path) for name, path in (v.split("=", 1) for v in values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", action="append", required=True, help="NAME=results.jsonl")
    parser.add_argument("--refs", action="append", default=[], help="NAME=its reference answers' run")
    parser.add_argument("--refs-labelled", type=Path)
    args = parser.parse_args()
    bank = load_bank()
    runs = {name: load_run(path) for name, path in named(args.run).items()}
    print("| input, head | Spearman | band accuracy | key points AUC / F1 | key points ordered in an answer "
          "| misconceptions AUC / F1 |")
    print("|---|---|---|---|---|---|")
    for name, run in runs.items():
        print(row(f"{name}, plain P(yes)", rescore_run(bank, run, PlainHead())))
        print(row(f"{name}, head cross-fitted by question", cross_fitted(bank, run)))
    if args.refs_labelled:
        labelled = load_labelled(args.refs_labelled)
        for name, path in named(args.refs).items():
            full = full_by_form(bank, load_run(path, labelled), fitted(bank, runs[name], None))
            print(f"{name}: reference answers full, head fitted on all of its run: {full}")


if __name__ == "__main__":
    main()
