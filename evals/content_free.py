"""Tried, not kept: "calibrate before use" (content-free baselines) for the yes/no probes.

    .venv/bin/python evals/content_free.py evals/out/dev/results.jsonl [--baselines FILE]

Each claim has its own bias (the model says "yes" to some claims more easily). This
script asks every claim about content-free answers ("N/A", "I don't know.") once, then
re-scores a saved dev run with the claim's probability corrected by its baseline
(logit difference, or half of it), re-fitting the thresholds for each variant exactly
as `evals/calibrate.py` does. It prints key-point / misconception AUC and the best
band accuracy per variant. Baselines are saved (default `evals/out/content-free.json`)
so re-scoring needs no model.
"""

import argparse
import json
import math
from pathlib import Path

from tutor.core import model_store
from tutor.core.bank import load_bank
from tutor.core.decide import PlainHead
from tutor.core.judges.base import JudgeRequest
from tutor.teacher.evaluation import EvalRun, load_run, metrics, rescore_run, safe_threshold_settings

CONTENT_FREE = ("N/A", "I don't know.")


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


VARIANTS = {
    "raw": lambda p, b: p,
    "logit difference": lambda p, b: _sigmoid(_logit(p) - _logit(b)),
    "half logit difference": lambda p, b: _sigmoid(_logit(p) - 0.5 * _logit(b)),
}


def measure_baselines(bank, model: str) -> dict[str, float]:
    """Mean P(yes) of every claim over the content-free answers: `question_id/point_id`."""
    from tutor.core.judges.local import LocalJudge

    judge = LocalJudge.load(model_store.resolve(model))
    baselines = {}
    for rubric in bank.select():
        points = [*rubric.key_points, *rubric.misconceptions]
        claims = tuple(p.asked for p in points)
        runs = [judge.judge(JudgeRequest(rubric.prompt, a, claims)) for a in CONTENT_FREE]
        for i, point in enumerate(points):
            baselines[f"{rubric.id}/{point.id}"] = sum(r[i].p_yes for r in runs) / len(runs)
    return baselines


def corrected(run: EvalRun, baselines: dict[str, float], variant) -> EvalRun:
    grades = []
    for result in run.grades:
        verdicts = []
        for v in result.verdicts:
            key = f"{result.question_id}/{v.point_id}"
            if key in baselines and v.p_yes is not None:  # the stored signal, re-decided below
                v = v.model_copy(update={"p_yes": variant(v.p_yes, baselines[key])})
            verdicts.append(v)
        grades.append(result.model_copy(update={"verdicts": verdicts}))
    return EvalRun(run.gold, grades, run.seconds, run.rerun_identical)


def best_setting(bank, run: EvalRun) -> tuple:
    return max((m.band_accuracy, m.spearman, t.key_point, t.misconception)
               for t, m in safe_threshold_settings(bank, run))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--baselines", type=Path, default=Path("evals/out/content-free.json"))
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    bank = load_bank()
    if not args.baselines.exists():
        args.baselines.parent.mkdir(parents=True, exist_ok=True)
        args.baselines.write_text(json.dumps(measure_baselines(bank, args.model), indent=1))
    baselines = json.loads(args.baselines.read_text())
    run = load_run(args.results)
    print("| variant | key-point AUC | misconception AUC | best band acc | Spearman | thresholds |")
    print("|---|---|---|---|---|---|")
    for name, variant in VARIANTS.items():
        fixed = rescore_run(bank, corrected(run, baselines, variant), PlainHead())
        m = metrics(fixed)
        band, rho, kp, misc = best_setting(bank, fixed)
        print(f"| {name} | {m.key_point.auc:.3f} | {m.misconception.auc:.3f} "
              f"| {band:.3f} | {rho:.3f} | {kp} / {misc} |")


if __name__ == "__main__":
    main()
