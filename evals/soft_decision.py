"""Issue 26, item 2: does deciding on soft evidence survive a change of writer better than hard cuts?

Leave-one-source-out over saved runs (no model call). For each source, a head is fitted on the
other sources' answers (its C chosen by log-loss on their tuning questions, 1 in 4 by id, as in
`tutor eval --held-out`), then the held-out source is decided four ways:

- `hard, tuned`: the thresholds and review cut-off chosen on the tuning answers (today's rule);
- `hard 0.5`: each point stated when the head says it is more likely than not;
- `expected`: the expected score when each point is stated with its probability (same
  `compute_score`, the least certain points enumerated exactly);
- `expected → isotonic`: that expected score mapped to the examiner's scale by an isotonic fit
  on the tuning answers;
- `expected → cut-offs`: the expected score's two band cut-offs chosen for band accuracy on the
  tuning answers (a monotone map, so it ranks as `expected` does).

Plain P(yes) is decided the same ways through a head without hidden states (logit P(yes) and the
claim's kind: Platt scaling), so "soft" is not confused with "hidden state".

    .venv/bin/python evals/soft_decision.py --from evals/out/base-dev/results.jsonl \
        --from evals/out/base-test/results.jsonl --from evals/out/base-writers/results.jsonl \
        [--from evals/out/base-train/results.jsonl] --out evals/out/soft
"""

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import product
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tutor.core.answer import prepare  # noqa: E402
from tutor.core.bank import Bank, load_bank  # noqa: E402
from tutor.core.decide import ProbeHead, Thresholds, compute_score, judged_outcome  # noqa: E402
from tutor.core.result import Grade  # noqa: E402
from tutor.core.rubric import Rubric  # noqa: E402
from tutor.teacher.calibration import (  # noqa: E402
    C_GRID,
    choose_review,
    choose_thresholds,
    fit,
    fit_and_tune,  # noqa: E402
    labelled_points,
    log_loss,
)
from tutor.teacher.evaluation import (  # noqa: E402
    EvalRun,
    above_band,
    joined,
    load_runs,
    metrics,
    rescore_run,
    subset,
)
from tutor.teacher.generalisation import by_source  # noqa: E402

ENUMERATED = 10  # least certain points whose uncertainty is propagated exactly


def expected_score(rubric: Rubric, grade: Grade, capped: bool) -> float:
    """E[score] when each judged point is stated with its probability, independently."""
    outcome = {v.point_id: v.outcome for v in grade.verdicts}
    judged = sorted((v for v in grade.verdicts if v.kind != "numeric" and 0.001 < v.confidence < 0.999),
                    key=lambda v: abs(v.confidence - 0.5))[:ENUMERATED]
    total = 0.0
    for stated in product((False, True), repeat=len(judged)):
        weight, trial = 1.0, dict(outcome)
        for v, s in zip(judged, stated, strict=True):
            weight *= v.confidence if s else 1 - v.confidence
            trial[v.point_id] = judged_outcome(v.kind, s)
        total += weight * compute_score(rubric, trial, capped)
    return total


def with_scores(bank: Bank, run: EvalRun, scores: list[float]) -> EvalRun:
    """The run with each graded answer's score replaced (its band from the rubric's cut-offs)."""
    grades = []
    for gold, grade, score in zip(run.gold, run.grades, scores, strict=True):
        if grade.status == "graded":
            s = round(float(min(1.0, max(0.0, score))), 3)
            grade = grade.model_copy(update={"score": s, "band": bank.get(gold.question_id).band_of(s)})
        grades.append(grade)
    return EvalRun(run.gold, grades, 0.0)


def expected_scores(bank: Bank, run: EvalRun) -> list[float]:
    return [expected_score(bank.get(g.question_id), r, prepare(g.answer).keyword_list)
            if r.status == "graded" else 0.0 for g, r in zip(run.gold, run.grades, strict=True)]


Mapping = Callable[[list[float]], list[float]]


def isotonic(bank: Bank, tuning: EvalRun, head: ProbeHead) -> Mapping:
    from sklearn.isotonic import IsotonicRegression

    decided = rescore_run(bank, tuning, head, with_doubt=False)
    x = expected_scores(bank, decided)
    y = [g.mark for g in tuning.gold]
    model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(x, y)
    return lambda scores: [float(v) for v in model.predict(scores)]


CUT_GRID = [round(0.05 + 0.025 * i, 3) for i in range(37)]  # 0.05 … 0.95


def cut_map(lo: float, hi: float) -> Mapping:
    """Piecewise linear and increasing: `lo` lands on the fail/partial cut-off (0.3), `hi` on
    the partial/full one (0.8), so the rubric's bands read the mapped score."""
    return lambda scores: [float(np.interp(s, [0.0, lo, hi, 1.0], [0.0, 0.3, 0.8, 1.0])) for s in scores]


def fitted_cuts(bank: Bank, tuning: EvalRun, head: ProbeHead) -> Mapping:
    """The two cut-offs on the expected score with the best band accuracy on the tuning answers,
    each setting averaged with its grid neighbours (a lucky corner of a small set does not decide)."""
    decided = rescore_run(bank, tuning, head, with_doubt=False)
    x = expected_scores(bank, decided)
    accuracy = {}
    for lo, hi in ((lo, hi) for lo in CUT_GRID for hi in CUT_GRID if hi > lo + 0.05):
        accuracy[(lo, hi)] = metrics(with_scores(bank, decided, cut_map(lo, hi)(x))).band_accuracy

    def smoothed(key: tuple[float, float]) -> float:
        near = [accuracy.get((round(key[0] + i * 0.025, 3), round(key[1] + j * 0.025, 3)))
                for i in (-1, 0, 1) for j in (-1, 0, 1)]
        return float(np.mean([a for a in near if a is not None]))
    return cut_map(*max(accuracy, key=smoothed))


def best_fit(fitting: EvalRun, tuning: EvalRun, use_state: bool) -> ProbeHead:
    points, tune_points = labelled_points(fitting), labelled_points(tuning)
    fits = [fit(points, c, use_state, {"name": "held-out"}) for c in C_GRID]
    return fits[int(np.argmin([log_loss(h, tune_points) for h in fits]))]


@dataclass
class Decided:
    name: str
    run: EvalRun


def decisions(bank: Bank, fitting: EvalRun, tuning: EvalRun, held: EvalRun, use_state: bool) -> list[Decided]:
    head = best_fit(fitting, tuning, use_state)
    tuned = choose_review(bank, tuning, choose_thresholds(bank, tuning, head))
    half = replace(head, thresholds=Thresholds(0.5, 0.5))
    at_half = rescore_run(bank, held, half, with_doubt=False)
    expected = expected_scores(bank, at_half)
    mapped = isotonic(bank, tuning, half)(expected)
    cut = fitted_cuts(bank, tuning, half)(expected)
    return [Decided("hard, tuned", rescore_run(bank, held, tuned)),
            Decided("hard 0.5", at_half),
            Decided("expected", with_scores(bank, at_half, expected)),
            Decided("expected → isotonic", with_scores(bank, at_half, mapped)),
            Decided("expected → cut-offs", with_scores(bank, at_half, cut))]


def negated_or_padded_above(run: EvalRun) -> int:
    keep = subset(run, lambda g: g.category in {"negated", "padding", "off_topic"})
    return above_band(keep)


def row(source: str, judge: str, d: Decided) -> str:
    m = metrics(d.run)
    return (f"| {source} | {judge} | {d.name} | {len(d.run.gold)} | {m.spearman:.3f} | "
            f"{m.band_accuracy:.3f} | {above_band(d.run)} | {negated_or_padded_above(d.run)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--from", dest="runs", type=Path, action="append", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    bank = load_bank()
    run = joined(load_runs(args.runs))
    lines = ["| held-out source | judge | decision | answers | Spearman | band accuracy | above band | "
             "negated/padded above band |", "|---|---|---|---|---|---|---|---|"]
    for source in sorted({s for g in run.gold if (s := by_source(g))}):
        fitting, tuning = fit_and_tune(subset(run, lambda g: by_source(g) != source))  # noqa: B023
        held = subset(run, lambda g: by_source(g) == source)  # noqa: B023
        for judge, use_state in (("head", True), ("plain (Platt)", False)):
            for d in decisions(bank, fitting, tuning, held, use_state):
                lines.append(row(str(source), judge, d))
                print(lines[-1], flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "soft-decision.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
