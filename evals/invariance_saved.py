"""Invariance of a saved run, without the model, where the judge is asked the same thing.

`tutor eval --invariance` grades each answer again written three other ways. Since the judge reads
the answer's judge form (`tutor.core.answer.judge_form`), a variant whose prepared text has the
same judge form is the same judge request as the typed answer, so the model gives it the same
signals (bit-identical on one machine; `tests/core/test_judge_input_model.py` checks it through the
real model). For those answers the variant's grade is the typed answer's signals decided on the
variant's text, exactly what grading it would give: this script does that, and lists the answers
whose request differs (the answer-side patterns read punctuation: a question mark, a hedge's
sentence; a transcript has no separating marks), which only a graded run (`tutor eval
--invariance`) can decide.

    .venv/bin/python evals/invariance_saved.py evals/out/norm/dev/results.jsonl [--head H.npz]

`--transcript RUN`: a graded run of the same answers written as unpunctuated transcripts (a
labelled file of them graded by `tutor eval --labelled … --out`; README's "Beetle's training
answers beside the denials" has the commands); both runs are re-decided by the head and the
answers whose band differs between them are counted, with the transcripts' band accuracy.
`--regraded RUN2`: some of those transcripts graded again after a change to the answer-side rules
(`tutor eval --labelled … --ids …`); their grades replace the saved ones.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tutor.core.answer import judge_form, prepare  # noqa: E402
from tutor.core.bank import Bank, load_bank  # noqa: E402
from tutor.core.decide import Head, load_head  # noqa: E402
from tutor.core.grader import rescore  # noqa: E402
from tutor.teacher.evaluation import EvalRun, load_labelled, load_run, load_runs, metrics, rescore_run  # noqa: E402
from tutor.teacher.invariance import VARIANTS  # noqa: E402


def transcript_rows(bank: Bank, run: EvalRun, transcript: Path, head: Head,
                    regraded: Path | None = None) -> list[str]:
    """Same band typed and as a graded transcript, of the answers graded both ways."""
    labelled = load_labelled(transcript.parent / "labelled.jsonl")
    heard = load_run(transcript, labelled)
    if regraded:
        heard = replaced(heard, load_run(regraded, labelled))
    typed, spoken = rescore_run(bank, run, head), rescore_run(bank, heard, head)
    by_id = {g.id: r for g, r in zip(spoken.gold, spoken.grades, strict=True) if r.status == "graded"}
    pairs = [(r.band, by_id[g.id].band) for g, r in zip(typed.gold, typed.grades, strict=True)
             if r.status == "graded" and g.id in by_id]
    same = sum(a == b for a, b in pairs)
    return [f"same band typed and as a transcript: {same} of {len(pairs)} ({same / max(1, len(pairs)):.3f})",
            f"transcripts: band accuracy {metrics(spoken).band_accuracy:.3f}"]


def replaced(run: EvalRun, regraded: EvalRun) -> EvalRun:
    """`run` with the grades of the answers graded again in `regraded` (by gold id)."""
    again = {g.id: r for g, r in zip(regraded.gold, regraded.grades, strict=True)}
    return EvalRun(run.gold, [again.get(g.id, r) for g, r in zip(run.gold, run.grades, strict=True)],
                   run.seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--head", help="a head file (default: the shipped head)")
    parser.add_argument("--transcript", type=Path, help="a graded run of the answers as transcripts")
    parser.add_argument("--regraded", type=Path, help="with --transcript: a run of some of those "
                        "transcripts graded again (after a change to the rules); its grades replace theirs")
    args = parser.parse_args()
    bank, head, run = load_bank(), load_head(args.head), load_runs([args.run])[0]
    if args.transcript:
        print("\n".join(transcript_rows(bank, run, args.transcript, head, args.regraded)))
        return
    print("| written as | answers | same judge request | band changed among them | request differs |")
    print("|---|---|---|---|---|")
    for name, rewrite in VARIANTS.items():
        same, moved, differs = 0, [], []
        for gold, typed in zip(run.gold, run.grades, strict=True):
            rubric, variant = bank.get(gold.question_id), rewrite(gold.answer)
            if judge_form(prepare(variant).text) != judge_form(prepare(gold.answer).text):
                differs.append(gold.id)
                continue
            same += 1
            before, after = rescore(rubric, gold.answer, typed, head), rescore(rubric, variant, typed, head)
            if before.band != after.band:
                moved.append(gold.id)
        print(f"| {name} | {len(run.gold)} | {same} | {len(moved)} {moved} | {len(differs)} {differs} |")


if __name__ == "__main__":
    main()
