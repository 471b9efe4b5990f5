"""Does a head hold when the answer arrives without punctuation, on writers it never saw?

The judge reads an answer's judge form (`tutor.core.answer.judge_form`): which mark ends a
sentence, case and spacing cannot change it, but a transcript without punctuation has no marks at
all, and is then read as its spoken form. Saved runs of the spoken-form judge (`--twin`) are
exactly what this judge gives such a transcript of the same answers (same prompt, same model), so
a head can be fitted on typed answers alone or on typed answers and their unpunctuated twins
(augmentation, issue 26 item 4). For each source held out (fitted and tuned without it, as
`tutor calibrate RUNS` does: one question in four tunes), the source is decided typed and as
transcripts, and the two are compared: same band, and agreement with the examiner. The answer-side
patterns read the typed text in both, so only what the judge hears differs. No model call.

    .venv/bin/python evals/augment_ablation.py --typed evals/out/sep/dev/results.jsonl \\
        --typed evals/out/sep/test/results.jsonl --typed evals/out/sep/writers/results.jsonl \\
        --twin evals/out/norm/dev/results.jsonl --twin evals/out/norm/test/results.jsonl \\
        --twin evals/out/norm/writers/results.jsonl
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tutor.core.bank import Bank, load_bank  # noqa: E402
from tutor.teacher.calibration import calibrate, fit_and_tune  # noqa: E402
from tutor.teacher.evaluation import EvalRun, above_band, joined, load_runs, metrics, rescore_run, subset  # noqa: E402


def same_band(a: EvalRun, b: EvalRun) -> float:
    pairs = [(x.band, y.band) for x, y in zip(a.grades, b.grades, strict=True)
             if x.status == y.status == "graded"]
    return sum(x == y for x, y in pairs) / max(1, len(pairs))


def cell(run: EvalRun) -> str:
    m = metrics(run)
    return f"{m.spearman:.3f} / {m.band_accuracy:.3f} / {above_band(run)}"


def held_out(bank: Bank, typed: EvalRun, twin: EvalRun, source: str, augment: bool) -> str:
    def outside(g: object) -> bool:
        return getattr(g, "source", None) != source

    pool = joined([subset(typed, outside), subset(twin, outside)]) if augment else subset(typed, outside)
    fitting, tuning = fit_and_tune(pool)
    head = calibrate(bank, fitting, tuning, {"name": f"without-{source}"}, say=lambda _: None)
    here_typed = rescore_run(bank, subset(typed, lambda g: not outside(g)), head)
    here_twin = rescore_run(bank, subset(twin, lambda g: not outside(g)), head)
    return (f"| {source} | {'typed + twins' if augment else 'typed'} | {len(here_typed.gold)} | "
            f"{cell(here_typed)} | {cell(here_twin)} | {same_band(here_typed, here_twin):.3f} |")


def aligned(typed: EvalRun, twin: EvalRun) -> EvalRun:
    """The twin run in the typed run's order (the same gold answers)."""
    by_id = {g.id: (g, r) for g, r in zip(twin.gold, twin.grades, strict=True)}
    pairs = [by_id[g.id] for g in typed.gold]
    return EvalRun([g for g, _ in pairs], [r for _, r in pairs], 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--typed", type=Path, action="append", required=True)
    parser.add_argument("--twin", type=Path, action="append", required=True)
    args = parser.parse_args()
    bank = load_bank()
    typed = joined(load_runs(args.typed))
    twin = aligned(typed, joined(load_runs(args.twin)))
    print("| held-out source | head fitted on | answers | typed: Spearman / band acc. / above band | "
          "as transcripts: the same | same band typed and as transcripts |")
    print("|---|---|---|---|---|---|")
    for source in sorted({g.source for g in typed.gold if g.source}):
        for augment in (False, True):
            print(held_out(bank, typed, twin, source, augment), flush=True)


if __name__ == "__main__":
    main()
