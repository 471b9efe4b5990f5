"""The judge head fitted on a mix of voices: the Week 6 runs and real students' answers from
another course (SemEval-2013 SciEntsBank's training split), chosen by leave-one-source-out.

`tutor calibrate` fits on the runs of one course. The judge issue asks for a head fitted on our
writers, the new writers and the public real-student sets together, so this script joins runs
of several courses into one run over one bank of every course's rubrics (question ids do not
collide: SemEval's start with `se-`) and then fits exactly as `tutor calibrate RUNS --out` does
(one question in four tunes C, thresholds and the review cut-off; the rest fit). `--held-out`
writes the leave-one-source-out table of that procedure over the joined run (no model call).

    .venv/bin/python evals/mix_head.py --run evals/out/base-dev/results.jsonl \\
        --run evals/out/base-test/results.jsonl --run evals/out/base-writers/results.jsonl \\
        --semeval evals/out/semeval/scientsbank-train [--semeval-run run-sep] --out evals/out/mix/head.npz \\
        [--held-out evals/out/mix/held-out.md] [--contrast none|p|state] \\
        [--fit-only RESULTS --fit-only-labelled LABELLED ...]

`--fit-only` (repeatable, each with its labels) adds a saved run's labelled points to the fitting
answers only, never to tuning: how the shipped head takes the denial sets (`evals/denial_fit.py`,
README's "Beetle's training answers beside the denials").
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tutor.core.bank import Bank, load_bank  # noqa: E402
from tutor.core.course import open_course  # noqa: E402
from tutor.core.decide import CONTRASTS  # noqa: E402
from tutor.core.judge_prompts import prompts_hash  # noqa: E402
from tutor.core.judges.llama_runtime import STATE_BLOCK  # noqa: E402
from tutor.core.model_store import resolve, sha256_of  # noqa: E402
from tutor.core.rubric import Rubric  # noqa: E402
from tutor.teacher import calibration  # noqa: E402
from tutor.teacher.calibration import calibrate, file_digest, fit_and_tune  # noqa: E402
from tutor.teacher.evaluation import EvalRun, joined, load_labelled, load_run, load_runs, subset  # noqa: E402
from tutor.teacher.generalisation import (  # noqa: E402
    HeldOut,
    by_source,
    held_out,
    source_table,
    subset_by_index,
)
from tutor.teacher.invariance import unpunctuated  # noqa: E402
from tutor.teacher.refit import save_head  # noqa: E402


def semeval_run(folder: Path, run_name: str = "run") -> tuple[Bank, EvalRun]:
    """A SemEval folder made by `evals/semeval.py build` and graded by `tutor eval --out RUN_NAME`."""
    bank = open_course(folder / "course").bank
    return bank, load_run(folder / run_name / "results.jsonl", load_labelled(folder / "labelled.jsonl"))


def paired_runs(saved: list[Path], labelled: list[Path]) -> list[EvalRun]:
    """Each saved run with its labelled answers, paired in the order given."""
    if len(saved) != len(labelled):
        raise SystemExit("each saved run needs its labelled answers (give both options in pairs)")
    return [load_run(r, load_labelled(lab)) for r, lab in zip(saved, labelled, strict=True)]


def fit_only_runs(saved: list[Path], labelled: list[Path]) -> EvalRun:
    """The runs added to the fit alone, joined, keeping the answers with point labels."""
    return subset(joined(paired_runs(saved, labelled)), lambda g: bool(g.key_points or g.misconceptions))


TRANSCRIBED = "~transcript"  # the id suffix of an answer's unpunctuated copy


def transcribed_run(path: Path) -> EvalRun:
    """A run saved by grading a split's answers as unpunctuated transcripts: each answer gets the
    text it was graded as (which the patterns and numeric checks read) and an id of its own; its
    source stays, so leaving a source out leaves out both of its forms."""
    run = load_run(path)
    gold = [g.model_copy(update={"id": g.id + TRANSCRIBED, "answer": unpunctuated(g.answer)})
            for g in run.gold]
    return EvalRun(gold, run.grades, run.seconds)


def by_form(results: list[HeldOut]) -> list[HeldOut]:
    """Each held-out source's typed and transcribed answers as rows of their own."""
    rows = []
    for r in results:
        for form, transcribed in (("", False), (" (transcript)", True)):
            pick = [n for n, g in enumerate(r.head.gold) if g.id.endswith(TRANSCRIBED) == transcribed]
            if pick:
                rows.append(HeldOut(r.group + form, subset_by_index(r.head, pick),
                                    subset_by_index(r.plain, pick), r.problem))
    return rows


def joined_bank(banks: list[Bank]) -> Bank:
    """One bank of every course's rubrics; two samples of one corpus share identical rubrics."""
    by_id: dict[str, Rubric] = {}
    for rubric in (r for bank in banks for r in bank.rubrics):
        if by_id.setdefault(rubric.id, rubric) != rubric:
            raise SystemExit(f"the courses give question {rubric.id} two different rubrics; cannot join them")
    return Bank(list(by_id.values()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, action="append", default=[], help="a Week 6 saved run")
    parser.add_argument("--transcript", type=Path, action="append", default=[],
                        help="a Week 6 run graded as unpunctuated transcripts (trained on as a second form)")
    parser.add_argument("--semeval", type=Path, action="append", default=[], help="a graded SemEval folder")
    parser.add_argument("--semeval-run", default="run", help="its saved run's folder (default: run)")
    parser.add_argument("--out", type=Path, required=True, help="where to write the head (.npz)")
    parser.add_argument("--held-out", type=Path, help="also write the leave-one-source-out table here")
    parser.add_argument("--fit-only", type=Path, action="append", default=[],
                        help="a saved run whose labelled points join the fit, never tuning (repeatable)")
    parser.add_argument("--fit-only-labelled", type=Path, action="append", default=[], help="its labels")
    parser.add_argument("--contrast", choices=CONTRASTS, default=calibration.CONTRAST,
                        help="what the head reads of each misconception's correction (the ablation)")
    args = parser.parse_args()
    calibration.CONTRAST = args.contrast  # the fits below, held-out ones included, read it
    others = [semeval_run(folder, args.semeval_run) for folder in args.semeval]
    bank = joined_bank([load_bank(), *(b for b, _ in others)])
    run = joined(load_runs(args.run) + [transcribed_run(p) for p in args.transcript] + [r for _, r in others])
    model = resolve(None)
    meta = {"model_sha256": sha256_of(model), "prompts": prompts_hash(), "layer": f"l_out-{STATE_BLOCK}",
            "train": {str(p): file_digest(p) for p in args.run + args.transcript}
            | {str(f): file_digest(f / args.semeval_run / "results.jsonl") for f in args.semeval}
            | {str(p): file_digest(p) for p in args.fit_only},
            "dev": "one question in four of the train runs (the --fit-only runs fit only)"}
    fitting, tuning = fit_and_tune(run)
    added = fit_only_runs(args.fit_only, args.fit_only_labelled)  # none: an empty run
    head = calibrate(bank, joined([fitting, added]), tuning, meta)
    head.meta["name"] = f"probe-{head.meta['layer']}-{head.fingerprint()}"
    save_head(head, args.out)
    print(f"head {head.meta['name']} written to {args.out}")
    if args.held_out:
        table = source_table(by_form(held_out(bank, run, by_source, say=print)))
        args.held_out.write_text("\n".join(table) + "\n")
        print("\n".join(table))


if __name__ == "__main__":
    main()
