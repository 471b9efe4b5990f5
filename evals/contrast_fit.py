"""Contrast pairs in the head's fit (issue 26): does a head taught, for the same claims, a
complete statement against a bare mention recognise complete answers' points (the rubrics'
reference answers) without crediting more of what it should not?

The reference answers' misses are points stated in other words inside lists and long answers
("use a smaller or distilled model, giving up capability"), while the examiner marks a bare
mention ("smaller model") not stated. `evals/contrast_pairs/` has, for every question and from
two writers in voices of their own, a complete answer and the same answer with about half of its
points cut back to a mention, each point labelled. Measured, no model call past `build`'s run:

- the reference answers full, each quarter of the questions graded by a head fitted with the
  pairs of the other quarters (the pairs of a question teach its claims: they stay out of its fold);
- one writer's pairs graded by a head fitted with the other's: the complete answers' points
  credited, and the cut points refused;
- leave one source out and one attack family out, the shipped recipe against it with every pair
  in the fit;
- `--out H.npz`: the head fitted with all pairs, for `evals/semeval.py score --head H`.

Pairs join the fitting answers only, as the reference answers did in `evals/reference_fit.py`.

    .venv/bin/python evals/contrast_fit.py build --out evals/out/pairs/labelled.jsonl
    tutor eval --labelled evals/out/pairs/labelled.jsonl --out evals/out/pairs/run
    .venv/bin/python evals/contrast_fit.py measure --pairs evals/out/pairs/run/results.jsonl \\
        --run evals/out/sep/dev/results.jsonl --run evals/out/sep/writers/results.jsonl \\
        --semeval evals/out/semeval/scientsbank-train --semeval-run run-sep \\
        --refs evals/out/sep/refs/results.jsonl --refs-labelled evals/out/refs/labelled.jsonl \\
        [--out evals/out/pairs/head.npz] [--no-held-out]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import BaseModel  # noqa: E402

from evals.mix_head import joined_bank, semeval_run  # noqa: E402
from evals.reference_fit import fitted, fold_of, full_by_form, held_out_table, parted  # noqa: E402
from tutor.core.bank import Bank, load_bank  # noqa: E402
from tutor.core.decide import ProbeHead, compute_score  # noqa: E402
from tutor.core.result import Band, Outcome  # noqa: E402
from tutor.teacher.evaluation import (  # noqa: E402
    EvalRun,
    GoldAnswer,
    joined,
    load_labelled,
    load_run,
    load_runs,
    rescore_run,
)
from tutor.teacher.generalisation import by_family, by_source  # noqa: E402
from tutor.teacher.refit import save_head  # noqa: E402

DATA = Path(__file__).resolve().parent / "contrast_pairs"
FOLDS = 4


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


def build(out: Path) -> None:
    gold = labelled(load_bank())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(g.model_dump_json() + "\n" for g in gold), encoding="utf-8")
    print(f"{len(gold)} labelled answers → {out}")


def cross_fitted(bank: Bank, run: EvalRun, refs: EvalRun, pairs: EvalRun | None) -> dict[str, int]:
    """Each quarter of the questions' reference answers graded by a head fitted with the pairs of
    the other quarters' questions."""
    fold = fold_of([g.question_id for g in refs.gold])
    total: dict[str, int] = {}
    for f in range(FOLDS):
        held = parted(refs, lambda g: fold(g.question_id), f)[1]
        extra = None if pairs is None else parted(pairs, lambda g: fold(g.question_id), f)[0]
        for form, n in full_by_form(bank, held, fitted(bank, run, extra)).items():
            total[form] = total.get(form, 0) + n
    return total


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


def measure(args: argparse.Namespace) -> None:
    others = [semeval_run(folder, args.semeval_run) for folder in args.semeval]
    bank = joined_bank([load_bank(), *(b for b, _ in others)])
    run = joined(load_runs(args.run) + [r for _, r in others])
    refs = load_run(args.refs, load_labelled(args.refs_labelled))
    pairs = joined([load_run(path, labelled(bank)) for path in args.pairs])
    complete, mixed = parted(pairs, lambda g: g.category, "contrast-mixed")
    for name, extra in (("shipped recipe", None), ("complete answers only", complete),
                        ("mixed answers only", mixed), ("with contrast pairs", pairs)):
        full = cross_fitted(bank, run, refs, extra)
        print(f"reference answers full, cross-fitted by question ({name}):", full)
    print("\n".join(by_writer(bank, run, pairs)))
    if args.out:
        head: ProbeHead = fitted(bank, run, pairs)
        head.meta["name"] = f"probe-pairs-{head.fingerprint()}"
        save_head(head, args.out)
        print(f"head {head.meta['name']} → {args.out}")
    if not args.no_held_out:
        print("\n".join(held_out_table(bank, run, pairs, by_source, "source", "with contrast pairs")))
        print("\n".join(held_out_table(bank, run, pairs, by_family, "attack family", "with contrast pairs")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build").add_argument("--out", type=Path, required=True)
    m = sub.add_parser("measure")
    m.add_argument("--pairs", type=Path, action="append", required=True, help="a saved run of pairs")
    m.add_argument("--run", type=Path, action="append", default=[], help="a Week 6 saved run")
    m.add_argument("--semeval", type=Path, action="append", default=[], help="a graded SemEval folder")
    m.add_argument("--semeval-run", default="run")
    m.add_argument("--refs", type=Path, required=True, help="the reference answers' saved run")
    m.add_argument("--refs-labelled", type=Path, required=True)
    m.add_argument("--out", type=Path, help="write the head fitted with every pair")
    m.add_argument("--no-held-out", action="store_true", help="skip the held-out tables (slow)")
    args = parser.parse_args()
    if args.command == "build":
        build(args.out)
    else:
        measure(args)


if __name__ == "__main__":
    main()
