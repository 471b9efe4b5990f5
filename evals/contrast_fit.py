"""Contrast pairs in the head's fit (issue 26): does a head taught, for the same claims, a
complete statement against a bare mention recognise complete answers' points (the rubrics'
reference answers) without crediting more of what it should not?

The reference answers' misses are points stated in other words inside lists and long answers
("use a smaller or distilled model, giving up capability"), while the examiner marks a bare
mention ("smaller model") not stated. `evals/contrast_pairs/` has, for every question and from
three writers in voices of their own, a complete answer and the same answer with about half of its
points cut back to a mention, each point labelled. Measured, no model call past `build`'s run:

- the reference answers full, each quarter of the questions graded by a head fitted with the
  pairs of the other quarters (the pairs of a question teach its claims: they stay out of its
  fold), with the complete answers alone and the mixed answers alone beside them;
- each writer's pairs graded by a head fitted with the other writers': the complete answers'
  points credited, and the points not stated refused;
- leave one source out (with the held-out answers' key-point and misconception agreement) and
  one attack family out, the shipped recipe against it with every pair in the fit;
- `--changes SOURCE`: that source's answers the pairs move across the examiner's band, held out,
  with the verdicts that moved and the examiner's label of each;
- `--out H.npz`: the head fitted with all pairs, for `evals/semeval.py score --head H`.

Pairs join the fitting answers only, as the reference answers did in `evals/reference_fit.py`.

    .venv/bin/python evals/contrast_fit.py build --out evals/out/pairs/labelled.jsonl
    tutor eval --labelled evals/out/pairs/labelled.jsonl --out evals/out/pairs/run   # or one run per writer
    .venv/bin/python evals/contrast_fit.py measure --pairs evals/out/pairs/run/results.jsonl \\
        --run evals/out/sep/dev/results.jsonl --run evals/out/sep/writers/results.jsonl \\
        --semeval evals/out/semeval/scientsbank-train --semeval-run run-sep \\
        --refs evals/out/sep/refs/results.jsonl --refs-labelled evals/out/refs/labelled.jsonl \\
        [--out evals/out/pairs/head.npz] [--no-held-out] [--changes SOURCE]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import BaseModel  # noqa: E402

from evals.reference_fit import (  # noqa: E402
    add_fit_inputs,
    cross_fitted,
    fit_inputs,
    fitted,
    held_out_table,
    parted,
    row,
    save_fitted,
)
from tutor.core.bank import Bank, load_bank  # noqa: E402
from tutor.core.decide import compute_score  # noqa: E402
from tutor.core.result import Band, Grade, Outcome  # noqa: E402
from tutor.teacher.evaluation import (  # noqa: E402
    EvalRun,
    GoldAnswer,
    joined,
    load_run,
    metrics,
    rescore_run,
)
from tutor.teacher.generalisation import by_family, by_source  # noqa: E402

DATA = Path(__file__).resolve().parent / "contrast_pairs"
ORDER = {Band.FAIL: 0, Band.PARTIAL: 1, Band.FULL: 2}


class Pair(BaseModel):
    """One line of a writer's file (`evals/contrast_pairs/README.md`)."""

    id: str
    question_id: str
    form: str  # complete | mixed
    layout: str
    answer: str
    key_points: dict[str, bool]
    cut: list[str]


def gold_of(bank: Bank, pair: Pair, source: str) -> GoldAnswer:
    """The pair as a labelled answer: its mark is the rubric's score of its labels (numbers right,
    no misconception), so only its points, not its mark, carry the writer's judgement."""
    rubric = bank.get(pair.question_id)
    outcome = {k: Outcome.HIT if v else Outcome.MISS for k, v in pair.key_points.items()}
    outcome |= {n.id: Outcome.HIT for n in rubric.numeric}
    outcome |= {m.id: Outcome.CLEAR for m in rubric.misconceptions}
    mark = compute_score(rubric, outcome)
    return GoldAnswer(id=pair.id, question_id=pair.question_id, category=f"contrast-{pair.form}",
                      source=source, answer=pair.answer, mark=mark, band=rubric.band_of(mark),
                      key_points=pair.key_points, misconceptions={m.id: False for m in rubric.misconceptions})


def labelled(bank: Bank) -> list[GoldAnswer]:
    """Every writer's pairs (a file's name is its writer, the answers' source)."""
    return [gold_of(bank, Pair.model_validate_json(line), path.stem)
            for path in sorted(DATA.glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def pairs_of(bank: Bank, paths: list[Path]) -> EvalRun:
    """Saved runs of the contrast pairs, as one run with their labels."""
    gold = labelled(bank)
    return joined([load_run(path, gold) for path in paths])


def build(out: Path) -> None:
    gold = labelled(load_bank())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(g.model_dump_json() + "\n" for g in gold), encoding="utf-8")
    print(f"{len(gold)} labelled answers → {out}")


def point_counts(run: EvalRun) -> str:
    """Complete answers full; their stated points credited; the mixed answers' cut points refused."""
    full = credited = stated = refused = cut = 0
    for gold, grade in zip(run.gold, run.grades, strict=True):
        hit = {v.point_id: v.outcome == Outcome.HIT for v in grade.verdicts if v.kind == "key_point"}
        if gold.category == "contrast-complete":
            full += grade.decided[1] == Band.FULL
            stated += sum(gold.key_points.values())
            credited += sum(hit[k] for k, v in gold.key_points.items() if v)
        else:
            wrong = [k for k, v in gold.key_points.items() if not v and k in hit]
            cut += len(wrong)
            refused += sum(not hit[k] for k in wrong)
    answers = sum(g.category == "contrast-complete" for g in run.gold)
    return (f"{full} / {answers} full, {credited} / {stated} points credited, "
            f"{refused} / {cut} not stated refused")


def by_writer(bank: Bank, run: EvalRun, pairs: EvalRun) -> list[str]:
    lines = ["| held-out writer's pairs | shipped recipe | with the other writer's pairs |", "|---|---|---|"]
    for writer in sorted({g.source for g in pairs.gold}):
        rest, held = parted(pairs, lambda g: g.source, writer)
        cells = [point_counts(rescore_run(bank, held, fitted(bank, run, extra))) for extra in (None, rest)]
        lines.append(f"| {writer} | {cells[0]} | {cells[1]} |")
    return lines


def with_points(run: EvalRun) -> str:
    """`row`, then key points accuracy / F1 and misconceptions F1."""
    m = metrics(run)
    return f"{row(run)}; {m.key_point.accuracy:.3f} / {m.key_point.f1:.3f} / {m.misconception.f1:.3f}"


def verdicts_moved(gold: GoldAnswer, before: Grade, after: Grade) -> list[str]:
    truth = {**gold.key_points, **gold.misconceptions}
    label = {True: "stated", False: "not stated", None: "no label"}
    return [f"    {a.point_id}: {a.outcome} → {b.outcome} (examiner: {label[truth.get(a.point_id)]})"
            for a, b in zip(before.verdicts, after.verdicts, strict=True) if a.outcome != b.outcome]


def above_changes(bank: Bank, run: EvalRun, pairs: EvalRun, source: str) -> list[str]:
    """The held-out source's answers that the pairs move above the examiner's band or back,
    with the verdicts that moved and the examiner's label of each."""
    rest, held = parted(run, lambda g: g.source, source)
    before, after = (rescore_run(bank, held, fitted(bank, rest, extra)) for extra in (None, pairs))
    lines = []
    for gold, a, b in zip(held.gold, before.grades, after.grades, strict=True):
        above = [ORDER[g.decided[1]] > ORDER[gold.band] for g in (a, b)]
        if above[0] != above[1]:
            lines.append(f"{gold.id} ({gold.family or source}), examiner {gold.band} {gold.mark}: "
                         f"{a.decided[1]} {a.score} → {b.decided[1]} {b.score}: {gold.answer[:160]!r}")
            lines.extend(verdicts_moved(gold, a, b))
    return lines


def measure(args: argparse.Namespace) -> None:
    bank, run, refs = fit_inputs(args)
    pairs = pairs_of(bank, args.pairs)
    complete, mixed = parted(pairs, lambda g: g.category, "contrast-mixed")
    for name, extra in (("shipped recipe", None), ("complete answers only", complete),
                        ("mixed answers only", mixed), ("with contrast pairs", pairs)):
        full = cross_fitted(bank, run, refs, extra)
        print(f"reference answers full, cross-fitted by question ({name}):", full)
    print("\n".join(by_writer(bank, run, pairs)))
    for source in args.changes:
        print("\n".join(above_changes(bank, run, pairs, source)))
    if args.out:
        save_fitted(fitted(bank, run, pairs), "pairs", args.out)
    if not args.no_held_out:
        print("\n".join(held_out_table(bank, run, pairs, by_source, "source", "with contrast pairs",
                                        with_points)))
        print("\n".join(held_out_table(bank, run, pairs, by_family, "attack family", "with contrast pairs")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build").add_argument("--out", type=Path, required=True)
    m = sub.add_parser("measure")
    m.add_argument("--pairs", type=Path, action="append", required=True, help="a saved run of pairs")
    add_fit_inputs(m, "pair")
    m.add_argument("--changes", action="append", default=[],
                   help="a source: its answers the pairs move across the examiner's band, held out")
    args = parser.parse_args()
    if args.command == "build":
        build(args.out)
    else:
        measure(args)


if __name__ == "__main__":
    main()
