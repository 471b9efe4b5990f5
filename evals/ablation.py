"""What each judge signal adds, measured on saved runs (no model calls).

    .venv/bin/tutor eval --split dev --out evals/out/dev
    .venv/bin/python evals/ablation.py evals/out/dev/results.jsonl [more runs…] [--train TRAIN_RESULTS]

Without --train: leave-question-out cross-validation inside each run (GroupKFold by question,
so every probability comes from a head that never saw that question). With --train: heads
fitted on the train run and scored on each run. Rows: P(yes) at the shipped thresholds, a
head on logit P(yes) alone (Platt scaling), and a head on the hidden state plus logit P(yes).
Heads are scored at thresholds 0.5/0.5 here, so rows compare signals, not threshold tuning.
"""

import argparse
from pathlib import Path

from tutor.core.bank import load_bank
from tutor.core.decide import PlainHead
from tutor.teacher.calibration import fit, labelled_points
from tutor.teacher.evaluation import EvalRun, Metrics, load_run, metrics, rescore_run

FOLDS = 11
C = 0.01


def _subset(run: EvalRun, keep: set[str]) -> EvalRun:
    pairs = [(g, r) for g, r in zip(run.gold, run.grades, strict=True) if g.question_id in keep]
    return EvalRun([g for g, _ in pairs], [r for _, r in pairs], run.seconds)


def cross_validated(bank, run: EvalRun, use_state: bool) -> EvalRun:
    """Each question's answers re-scored by a head fitted on the other folds' questions."""
    from sklearn.model_selection import GroupKFold

    questions = sorted({g.question_id for g in run.gold})
    gold, grades = [], []
    for train_q, test_q in GroupKFold(FOLDS).split(questions, groups=questions):
        fold_train = _subset(run, {questions[i] for i in train_q})
        fold_test = _subset(run, {questions[i] for i in test_q})
        head = fit(labelled_points(fold_train), C, use_state, {"name": "cv"})
        scored = rescore_run(bank, fold_test, head)
        gold += scored.gold
        grades += scored.grades
    return EvalRun(gold, grades, run.seconds)


def row(name: str, m: Metrics) -> str:
    kp, mc = m.key_point, m.misconception
    return (f"| {name} | {kp.auc:.3f} | {kp.accuracy:.3f} | {mc.auc:.3f} | {mc.accuracy:.3f} "
            f"| {m.ece:.3f} | {m.band_accuracy:.3f} | {m.spearman:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--train", type=Path)
    args = parser.parse_args()
    bank = load_bank()
    print("| run · signals | key-point AUC | key-point acc | misc. AUC | misc. acc | ECE "
          "| band acc | Spearman |")
    print("|---|---|---|---|---|---|---|---|")
    train = labelled_points(load_run(args.train)) if args.train else None
    for path in args.runs:
        run = load_run(path)
        label = path.parent.name
        print(row(f"{label} · P(yes), thresholds 0.65/0.75", metrics(rescore_run(bank, run, PlainHead()))))
        for use_state, name in ((False, "head on logit P(yes)"), (True, "head on state + logit P(yes)")):
            if train is not None:
                head = fit(train, C, use_state, {"name": name})
                scored = rescore_run(bank, run, head)
            else:
                scored = cross_validated(bank, run, use_state)
            print(row(f"{label} · {name}", metrics(scored)))
    print()
    print("(heads at thresholds 0.5/0.5;", "fitted on --train" if train is not None
          else f"leave-question-out, {FOLDS} folds, C={C})")


if __name__ == "__main__":
    main()
