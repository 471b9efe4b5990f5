"""The rubrics' own reference answers in the head's fit (issue 26: "every rubric's own reference
answer grades full"), measured so that no figure rests on an answer the head was fitted on.

A reference answer states every key point of its rubric by construction, and a rubric ships it
for every question, new ones included: it is a labelled answer the teacher gives for free. The
question is whether fitting on other questions' reference answers teaches the head to recognise a
long, complete answer's points (the shipped head marks several of them "not stated" although
plain P(yes) says yes), without crediting what it should not. Three measurements, no model call
(saved signals only):

- reference answers full, each fold of questions' reference answers graded by a head fitted with
  the other folds' (a new rubric's reference answer, never seen in the fit);
- leave one source out, and leave one attack family out, the shipped recipe against the same
  recipe with every reference answer in the fit (the held-out group's questions' reference
  answers included: a rubric's reference answer is there whenever its answers are graded);
- `--out H.npz`: the head fitted with all reference answers, for `evals/semeval.py score --head H`.

Reference answers join the fitting answers only; C, the review cut-off and the doubt are tuned on
the recipe's own tuning answers (one question in four), as `evals/mix_head.py` does.

    .venv/bin/python evals/reference_fit.py --run evals/out/sep/dev/results.jsonl \\
        --run evals/out/sep/writers/results.jsonl --semeval evals/out/semeval/scientsbank-train \\
        --semeval-run run-sep --refs evals/out/sep/refs/results.jsonl \\
        --refs-labelled evals/out/refs/labelled.jsonl [--out evals/out/refs-fit/head.npz] \\
        [--no-held-out] [--score RUN]   # RUN: a saved Week 6 run left out of the fit, by source
"""

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evals.mix_head import joined_bank, semeval_run  # noqa: E402
from tutor.core.bank import Bank, load_bank  # noqa: E402
from tutor.core.decide import ProbeHead  # noqa: E402
from tutor.teacher.calibration import calibrate, fit_and_tune  # noqa: E402
from tutor.teacher.evaluation import (  # noqa: E402
    EvalRun,
    GoldAnswer,
    above_band,
    joined,
    load_labelled,
    load_run,
    load_runs,
    metrics,
    rescore_run,
    subset,
)
from tutor.teacher.generalisation import by_family, by_source  # noqa: E402
from tutor.teacher.refit import save_head  # noqa: E402

FOLDS = 4


def quiet(_: str) -> None:
    pass


def fitted(bank: Bank, run: EvalRun, refs: EvalRun | None) -> ProbeHead:
    """The shipped recipe on `run`, with `refs` (if any) added to the fitting answers only."""
    fitting, tuning = fit_and_tune(run)
    if refs is not None:
        fitting = joined([fitting, refs])
    return calibrate(bank, fitting, tuning, {"name": "reference-fit"}, say=quiet)


def full_counts(graded: EvalRun) -> dict[str, int]:
    """Answers in the top band, by source (the reference answers' form: typed, unpunctuated)."""
    counts: dict[str, int] = {}
    for gold, grade in zip(graded.gold, graded.grades, strict=True):
        counts[gold.source or ""] = counts.get(gold.source or "", 0) + (grade.decided[1] == "full")
    return counts


def full_by_form(bank: Bank, refs: EvalRun, head: ProbeHead) -> dict[str, int]:
    return full_counts(rescore_run(bank, refs, head))


def fold_of(question_ids: list[str]) -> Callable[[str], int]:
    order = {q: n % FOLDS for n, q in enumerate(sorted(set(question_ids)))}
    return lambda q: order[q]


def parted(run: EvalRun, key: Callable[[GoldAnswer], object], value: object) -> tuple[EvalRun, EvalRun]:
    """The answers whose key is not `value`, and those whose key is."""
    return subset(run, lambda g: key(g) != value), subset(run, lambda g: key(g) == value)


def cross_fitted(bank: Bank, run: EvalRun, refs: EvalRun, extra: EvalRun | None) -> dict[str, int]:
    """Each quarter of the questions' reference answers graded by a head fitted with `extra`'s
    answers to the other quarters' questions (the reference answers themselves, or other added
    answers; None: the recipe alone)."""
    fold = fold_of([g.question_id for g in refs.gold])
    total: dict[str, int] = {}
    for f in range(FOLDS):
        held = parted(refs, lambda g: fold(g.question_id), f)[1]
        others = None if extra is None else parted(extra, lambda g: fold(g.question_id), f)[0]
        for form, n in full_by_form(bank, held, fitted(bank, run, others)).items():
            total[form] = total.get(form, 0) + n
    return total


def row(run: EvalRun) -> str:
    m = metrics(run)
    return f"{m.spearman:.3f} / {m.band_accuracy:.3f} / {above_band(run)}"


def held_out_table(bank: Bank, run: EvalRun, refs: EvalRun, group: Callable[[GoldAnswer], str | None],
                   name: str, added: str = "with reference answers",
                   cell: Callable[[EvalRun], str] = row) -> list[str]:
    """Each group held out of fit and tuning, the shipped recipe against it with `refs` (the
    reference answers, or other added answers) fitted: by default Spearman / band accuracy /
    answers above the examiner's band."""
    lines = [f"| held-out {name} | answers | shipped recipe | {added} |", "|---|---|---|---|"]
    for value in sorted({k for g in run.gold if (k := group(g))}):
        rest, held = parted(run, group, value)
        cells = [cell(rescore_run(bank, held, fitted(bank, rest, r))) for r in (None, refs)]
        lines.append(f"| {value} | {len(held.gold)} | {cells[0]} | {cells[1]} |")
    return lines


def save_fitted(head: ProbeHead, added: str, out: Path) -> None:
    """A head fitted with added answers, named `probe-<added>-<fingerprint>`, saved to `out`."""
    head.meta["name"] = f"probe-{added}-{head.fingerprint()}"
    save_head(head, out)
    print(f"head {head.meta['name']} → {out}")


def add_fit_inputs(parser: argparse.ArgumentParser, added: str) -> None:
    """The saved runs the recipe fits on, the reference answers' run, and the common options."""
    parser.add_argument("--run", type=Path, action="append", default=[], help="a Week 6 saved run")
    parser.add_argument("--semeval", type=Path, action="append", default=[], help="a graded SemEval folder")
    parser.add_argument("--semeval-run", default="run")
    parser.add_argument("--refs", type=Path, required=True, help="the reference answers' saved run")
    parser.add_argument("--refs-labelled", type=Path, required=True)
    parser.add_argument("--out", type=Path, help=f"write the head fitted with every {added}")
    parser.add_argument("--no-held-out", action="store_true", help="skip the held-out tables (slow)")


def fit_inputs(args: argparse.Namespace) -> tuple[Bank, EvalRun, EvalRun]:
    """(one bank of every course's rubrics, the joined fitting run, the reference answers' run)."""
    others = [semeval_run(folder, args.semeval_run) for folder in args.semeval]
    bank = joined_bank([load_bank(), *(b for b, _ in others)])
    run = joined(load_runs(args.run) + [r for _, r in others])
    return bank, run, load_run(args.refs, load_labelled(args.refs_labelled))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_fit_inputs(parser, "reference answer")
    parser.add_argument("--score", type=Path, action="append", default=[],
                        help="a saved Week 6 run outside the fit: its sources graded by the head without")
    args = parser.parse_args()
    bank, run, refs = fit_inputs(args)
    without = fitted(bank, run, None)
    print("reference answers full, fitted without any:", full_by_form(bank, refs, without))
    for scored in load_runs(args.score):
        for source in sorted({g.source for g in scored.gold}):
            print(f"{source}, fitted without it and without any reference answer:",
                  row(rescore_run(bank, parted(scored, lambda g: g.source, source)[1], without)))
    full = cross_fitted(bank, run, refs, refs)
    print("each fold's reference answers full, head fitted with the others':", full)
    if args.out:
        save_fitted(fitted(bank, run, refs), "refs", args.out)
    if not args.no_held_out:
        print("\n".join(held_out_table(bank, run, refs, by_source, "source")))
        print("\n".join(held_out_table(bank, run, refs, by_family, "attack family")))


if __name__ == "__main__":
    main()
