"""Denials in the head's fit (issue 26 item 3): answers that bring a course claim up only to reject
it, labelled "not stated", beside the contrast pairs.

The contrast pairs (`evals/contrast_fit.py`) taught the head that a complete claim is stated, and
it then credited claims under reversal frames, hedges and questions too (README, "Contrast pairs
in the fit"). The denial sets (`evals/reversal_unseen/`, helper-written, never in any fit) hold
the other side: the claim's words, rejected. Their denials (`denies.jsonl`) and corrections
(`corrects.jsonl`) are labelled point by point in `evals/reversal_unseen/point_labels.jsonl` (a
helper session as examiner, from the answers and the rubrics' claims alone: stated means committed
to, in the writer's own voice); the affirmations (`affirms.jsonl`) have no point labels and join
no fit.

`first/`, `third/` and `fifth/` (claims named among alternatives) join the fit (`first/` was read
while writing the denial rule: it measures nothing any more). `second/` and `fourth/` are measured,
never fitted (`--second`, once per set): the points their denials and corrections do not state,
credited or flagged (fewer is better), the points they state, credited or flagged, and the
affirmations' mean score.

    for s in first second third fourth fifth; do
        .venv/bin/python evals/denial_fit.py build --set $s --out evals/out/denial-fit/$s.jsonl
        .venv/bin/tutor eval --labelled evals/out/denial-fit/$s.jsonl --out evals/out/denial-fit/$s
    done
    D=evals/out/denial-fit
    .venv/bin/python evals/denial_fit.py measure \\
        --denials $D/first/results.jsonl --denials-labelled $D/first.jsonl \\
        --denials $D/third/results.jsonl --denials-labelled $D/third.jsonl \\
        --denials $D/fifth/results.jsonl --denials-labelled $D/fifth.jsonl \\
        --second $D/second/results.jsonl --second-labelled $D/second.jsonl \\
        --second $D/fourth/results.jsonl --second-labelled $D/fourth.jsonl \\
        --pairs evals/out/pairs/cpA/results.jsonl --pairs evals/out/pairs/cpB/results.jsonl \\
        --pairs evals/out/pairs/cpC/results.jsonl --run evals/out/sep/dev/results.jsonl \\
        --run evals/out/sep/writers/results.jsonl --semeval evals/out/semeval/scientsbank-train \\
        --semeval-run run-sep --refs evals/out/sep/refs/results.jsonl \\
        --refs-labelled evals/out/refs/labelled.jsonl --out $D/denials135.npz

README's "Denials from two more writers" is the same without `fifth/`'s two options
(`--out $D/denials13.npz`).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import BaseModel  # noqa: E402

from evals.contrast_fit import pairs_of, with_points  # noqa: E402
from evals.denial_forms import DATA, Case, cases  # noqa: E402
from evals.mix_head import fit_only_runs, paired_runs  # noqa: E402
from evals.reference_fit import add_fit_inputs, cross_fitted, fit_inputs, fitted, held_out_table, save_fitted  # noqa: E402
from tutor.core.bank import Bank  # noqa: E402
from tutor.core.decide import ProbeHead  # noqa: E402
from tutor.core.result import Band, Outcome  # noqa: E402
from tutor.teacher.evaluation import EvalRun, GoldAnswer, joined, rescore_run  # noqa: E402
from tutor.teacher.generalisation import by_family, by_source  # noqa: E402

FITTED_FILES = ("denies", "corrects", "affirms", "alternatives")  # those a set has


class PointLabels(BaseModel):
    id: str
    key_points: dict[str, bool]
    misconceptions: dict[str, bool]
    note: str = ""


def point_labels() -> dict[str, PointLabels]:
    lines = (DATA / "point_labels.jsonl").read_text(encoding="utf-8").splitlines()
    return {p.id: p for p in map(PointLabels.model_validate_json, lines)}


def gold_of(case: Case, kind: str, folder: str, labels: dict[str, PointLabels]) -> GoldAnswer:
    """A denial set's answer as a labelled one; an affirmation without point labels. The sets
    have no examiner's marks: mark and band are placeholders that no figure here reads."""
    answer_id = f"{folder}-{case.id}"
    found = labels.get(answer_id)
    return GoldAnswer(id=answer_id, question_id=case.question_id, category=f"denial-{kind}",
                      source=f"denials-{folder}", answer=case.answer, mark=0.0, band=Band.FAIL,
                      key_points=found.key_points if found else {},
                      misconceptions=found.misconceptions if found else {}, note=case.form)


def build(folder: str, out: Path) -> None:
    labels = point_labels()
    gold = [gold_of(case, kind, folder, labels) for kind in FITTED_FILES
            if (path := DATA / folder / f"{kind}.jsonl").exists() for case in cases(path)]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(g.model_dump_json() + "\n" for g in gold), encoding="utf-8")
    print(f"{len(gold)} labelled answers → {out}")


def second_set(bank: Bank, second: EvalRun, head: ProbeHead) -> str:
    """The measured set's points not stated that the head credits or flags, of all; those stated
    that it credits or flags, of all; and the affirmations' mean score."""
    graded = rescore_run(bank, second, head, with_doubt=False)
    counts = {False: [0, 0], True: [0, 0]}  # label → [credited or flagged, points]
    affirmed: list[float] = []
    for gold, grade in zip(graded.gold, graded.grades, strict=True):
        if gold.category == "denial-affirms":
            affirmed.append(grade.decided[0])
        truth = {**gold.key_points, **gold.misconceptions}
        for v in grade.verdicts:
            if v.point_id in truth:
                counts[truth[v.point_id]][0] += v.outcome in (Outcome.HIT, Outcome.WRONG)
                counts[truth[v.point_id]][1] += 1
    (wrong, unstated), (right, stated) = counts[False], counts[True]
    return (f"not stated but credited or flagged {wrong} / {unstated}, stated and credited or flagged "
            f"{right} / {stated}; affirmations' mean score {sum(affirmed) / max(1, len(affirmed)):.3f}")


def measure(args: argparse.Namespace) -> None:
    bank, run, refs = fit_inputs(args)
    pairs = pairs_of(bank, args.pairs)
    denials = fit_only_runs(args.denials, args.denials_labelled)  # the affirmations have no labels
    measured = {r.gold[0].source or "": r for r in paired_runs(args.second, args.second_labelled)}
    added = {"shipped recipe": None, "denials": denials, "pairs": pairs,
             "pairs and denials": joined([pairs, denials])}
    heads = {name: fitted(bank, run, extra) for name, extra in added.items()}
    for name, extra in added.items():
        for set_name, second in measured.items():
            print(f"{name}, {set_name}: {second_set(bank, second, heads[name])}")
        if not args.no_refs:
            print(f"{name}, reference answers full, cross-fitted by question: "
                  f"{cross_fitted(bank, run, refs, extra)}")
    if args.out:
        save_fitted(heads["denials"], "denials", args.out)
    if args.no_held_out:
        return
    for name, extra in (("denials", denials), ("pairs and denials", joined([pairs, denials]))):
        print("\n".join(held_out_table(bank, run, extra, by_source, "source", f"with {name}", with_points)))
        print("\n".join(held_out_table(bank, run, extra, by_family, "attack family", f"with {name}")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("--set", choices=sorted(p.name for p in DATA.iterdir() if p.is_dir()), required=True)
    b.add_argument("--out", type=Path, required=True)
    m = sub.add_parser("measure")
    add_fit_inputs(m, "denial")
    m.add_argument("--pairs", type=Path, action="append", required=True, help="a saved run of contrast pairs")
    m.add_argument("--denials", type=Path, action="append", required=True, help="a fitted set's saved run")
    m.add_argument("--denials-labelled", type=Path, action="append", required=True, help="its labels")
    m.add_argument("--second", type=Path, action="append", default=[], help="a measured set's saved run")
    m.add_argument("--second-labelled", type=Path, action="append", default=[], help="its labels")
    m.add_argument("--no-refs", action="store_true", help="skip the reference answers' cross-fit")
    args = parser.parse_args()
    if args.command == "build":
        build(args.set, args.out)
    else:
        measure(args)


if __name__ == "__main__":
    main()
