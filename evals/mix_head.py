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
        --semeval evals/out/semeval/scientsbank-train --out evals/out/mix/head.npz \\
        [--held-out evals/out/mix/held-out.md]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tutor.core.bank import Bank, load_bank  # noqa: E402
from tutor.core.course import open_course  # noqa: E402
from tutor.core.judge_prompts import prompts_hash  # noqa: E402
from tutor.core.judges.llama_runtime import STATE_BLOCK  # noqa: E402
from tutor.core.model_store import resolve, sha256_of  # noqa: E402
from tutor.teacher.calibration import calibrate, file_digest, fit_and_tune  # noqa: E402
from tutor.teacher.evaluation import EvalRun, joined, load_labelled, load_run, load_runs  # noqa: E402
from tutor.teacher.generalisation import by_source, held_out, source_table  # noqa: E402
from tutor.teacher.refit import save_head  # noqa: E402


def semeval_run(folder: Path) -> tuple[Bank, EvalRun]:
    """A SemEval folder made by `evals/semeval.py build` and graded by `tutor eval --out run`."""
    bank = open_course(folder / "course").bank
    return bank, load_run(folder / "run" / "results.jsonl", load_labelled(folder / "labelled.jsonl"))


def joined_bank(banks: list[Bank]) -> Bank:
    rubrics = [r for bank in banks for r in bank.rubrics]
    if len({r.id for r in rubrics}) != len(rubrics):
        raise SystemExit("the courses share question ids; they cannot be joined")
    return Bank(rubrics)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, action="append", default=[], help="a Week 6 saved run")
    parser.add_argument("--semeval", type=Path, action="append", default=[], help="a graded SemEval folder")
    parser.add_argument("--out", type=Path, required=True, help="where to write the head (.npz)")
    parser.add_argument("--held-out", type=Path, help="also write the leave-one-source-out table here")
    args = parser.parse_args()
    others = [semeval_run(folder) for folder in args.semeval]
    bank = joined_bank([load_bank(), *(b for b, _ in others)])
    run = joined(load_runs(args.run) + [r for _, r in others])
    model = resolve(None)
    meta = {"model_sha256": sha256_of(model), "prompts": prompts_hash(), "layer": f"l_out-{STATE_BLOCK}",
            "train": {str(p): file_digest(p) for p in args.run}
            | {str(f): file_digest(f / "run" / "results.jsonl") for f in args.semeval},
            "dev": "one question in four of the train runs"}
    head = calibrate(bank, *fit_and_tune(run), meta)
    head.meta["name"] = f"probe-{head.meta['layer']}-{head.fingerprint()}"
    save_head(head, args.out)
    print(f"head {head.meta['name']} written to {args.out}")
    if args.held_out:
        table = source_table(held_out(bank, run, by_source, say=print))
        args.held_out.write_text("\n".join(table) + "\n")
        print("\n".join(table))


if __name__ == "__main__":
    main()
