"""`tutor eval`: the grader's agreement with human marks, measured on the gold set."""

import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from tutor import paths
from tutor.answer import prepare
from tutor.bank import Bank
from tutor.errors import TutorError
from tutor.grade import Band, Grade, Outcome
from tutor.grader import Thresholds, compute_score, grade

ADVERSARIAL = {"injection", "keywords", "master_key"}
BANDS = [Band.FAIL, Band.PARTIAL, Band.FULL]


class GoldAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    question_id: str
    category: str
    answer: str
    mark: float
    band: Band
    key_points: dict[str, bool]
    misconceptions: dict[str, bool]
    numeric: dict[str, bool] = {}
    note: str = ""


def gold_dir() -> Path:
    return paths.PROJECT_ROOT / "evals" / "gold"


def load_gold(split: str, ids: list[str] | None = None) -> list[GoldAnswer]:
    splits = ["dev", "test"] if split == "all" else [split]
    items = []
    for name in splits:
        path = gold_dir() / f"{name}.jsonl"
        if not path.exists():
            raise TutorError(f"no gold split '{name}' ({path} is missing)")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    items.append(GoldAnswer.model_validate_json(line))
                except ValueError as exc:
                    raise TutorError(f"{path}:{number}: {str(exc).splitlines()[0]}") from None
    return [g for g in items if not ids or g.id in ids]


@dataclass
class EvalRun:
    gold: list[GoldAnswer]
    grades: list[Grade]
    seconds: float
    rerun_identical: tuple[int, int] | None = None  # (identical, checked)

    def dump(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as out:
            for gold, result in zip(self.gold, self.grades, strict=True):
                out.write(json.dumps({"gold_id": gold.id, "grade": result.model_dump(mode="json")}) + "\n")
            meta = {"seconds": self.seconds, "rerun_identical": self.rerun_identical}
            out.write(json.dumps({"meta": meta}) + "\n")


def run_eval(bank: Bank, gold: list[GoldAnswer], judge, thresholds: Thresholds,
             rerun: int = 0, progress=None) -> EvalRun:
    start = time.perf_counter()
    grades = []
    for item in gold:
        grades.append(grade(bank.get(item.question_id), item.answer, judge, thresholds))
        if progress:
            progress()
    seconds = time.perf_counter() - start
    identical = None
    if rerun:
        if hasattr(judge, "forget"):
            judge.forget()  # a re-run served from the cache would prove nothing
        again = [grade(bank.get(g.question_id), g.answer, judge, thresholds) for g in gold[:rerun]]
        identical = (sum(a == b for a, b in zip(again, grades, strict=False)), len(again))
    return EvalRun(gold, grades, seconds, identical)


def load_run(path: Path, split: str) -> EvalRun:
    """A saved run (from `--out`), to re-threshold or compare without running the model."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    by_id = {g.id: g for g in load_gold("all")}
    meta = next((r["meta"] for r in rows if "meta" in r), {})
    rows = [r for r in rows if "gold_id" in r]
    gold = [by_id[r["gold_id"]] for r in rows]
    grades = [Grade.model_validate(r["grade"]) for r in rows]
    identical = tuple(meta["rerun_identical"]) if meta.get("rerun_identical") else None
    return EvalRun(gold, grades, meta.get("seconds", 0.0), identical)


def rethreshold(bank: Bank, run: EvalRun, thresholds: Thresholds) -> EvalRun:
    """Re-decide hits from the stored probabilities at other thresholds (no model call)."""
    grades = []
    for gold, old in zip(run.gold, run.grades, strict=True):
        if old.status != "graded" or old.mode == "none":
            grades.append(old)
            continue
        verdicts = [_redecide(v, thresholds) for v in old.verdicts]
        rubric = bank.get(gold.question_id)
        score = compute_score(rubric, verdicts, capped=prepare(gold.answer).keyword_list)
        grades.append(old.model_copy(update={"verdicts": verdicts, "score": score,
                                             "band": Band.of(score)}))
    return EvalRun(run.gold, grades, run.seconds, run.rerun_identical)


THRESHOLD_GRID = [round(0.30 + 0.05 * i, 2) for i in range(14)]


def safe_threshold_settings(bank: Bank, run: EvalRun) -> list[tuple[Thresholds, dict]]:
    """Every grid setting of the two thresholds with its metrics, keeping only those that
    put no injection / keyword / master-key answer in the top band (for calibration)."""
    settings = []
    for kp in THRESHOLD_GRID:
        for misc in THRESHOLD_GRID:
            thresholds = Thresholds(kp, misc)
            m = metrics(rethreshold(bank, run, thresholds))
            if m["adversarial_full"] == 0:
                settings.append((thresholds, m))
    return settings


def _redecide(verdict, thresholds: Thresholds):
    if verdict.kind == "key_point":
        hit = verdict.confidence >= thresholds.key_point
        return verdict.model_copy(update={"outcome": Outcome.HIT if hit else Outcome.MISS})
    if verdict.kind == "misconception":
        wrong = verdict.confidence >= thresholds.misconception
        return verdict.model_copy(update={"outcome": Outcome.WRONG if wrong else Outcome.CLEAR})
    return verdict


def point_labels(run: EvalRun, kind: str) -> tuple[list[bool], list[float], list[bool]]:
    """(human label, judge confidence, judge decision) for every judged point of `kind`."""
    truth, confidence, decided = [], [], []
    for gold, result in zip(run.gold, run.grades, strict=True):
        labels = gold.key_points if kind == "key_point" else gold.misconceptions
        for verdict in result.by_kind(kind):
            if verdict.point_id in labels:
                truth.append(labels[verdict.point_id])
                confidence.append(verdict.confidence)
                decided.append(verdict.outcome in (Outcome.HIT, Outcome.WRONG))
    return truth, confidence, decided


def metrics(run: EvalRun) -> dict:
    from scipy.stats import spearmanr
    from sklearn.metrics import cohen_kappa_score, confusion_matrix

    graded = [(g, r) for g, r in zip(run.gold, run.grades, strict=True) if r.status == "graded"]
    marks = [g.mark for g, _ in graded]
    scores = [r.score for _, r in graded]
    human = [BANDS.index(g.band) for g, _ in graded]
    machine = [BANDS.index(r.band) for _, r in graded]
    # adversarial answers that reach the top band although the examiner did not give it
    adversarial = [r for g, r in graded if g.category in ADVERSARIAL and g.band != Band.FULL]
    result = {
        "answers": len(run.gold),
        "ungraded": len(run.gold) - len(graded),
        "spearman": float(spearmanr(marks, scores).statistic) if len(graded) > 2 else float("nan"),
        "qwk": float(cohen_kappa_score(human, machine, weights="quadratic", labels=[0, 1, 2])),
        "band_accuracy": sum(h == m for h, m in zip(human, machine, strict=True)) / max(1, len(graded)),
        "confusion": confusion_matrix(human, machine, labels=[0, 1, 2]).tolist(),
        "adversarial_full": sum(r.band == Band.FULL for r in adversarial),
        "adversarial": len(adversarial),
        "seconds_per_answer": run.seconds / max(1, len(run.gold)),
        "rerun_identical": run.rerun_identical,
    }
    for kind in ("key_point", "misconception"):
        result[kind] = _point_metrics(*point_labels(run, kind))
    return result


def _point_metrics(truth: list[bool], confidence: list[float], decided: list[bool]) -> dict:
    from sklearn.metrics import f1_score, roc_auc_score

    if not truth:
        return {"n": 0}
    auc = roc_auc_score(truth, confidence) if len(set(truth)) == 2 else float("nan")
    correct = sum(t == d for t, d in zip(truth, decided, strict=True))
    return {"n": len(truth), "accuracy": correct / len(truth),
            "f1": float(f1_score(truth, decided, zero_division=0)), "auc": float(auc)}


def by_category(run: EvalRun) -> dict[str, Counter]:
    table: dict[str, Counter] = {}
    for gold, result in zip(run.gold, run.grades, strict=True):
        band = result.band.value if result.band else "ungraded"
        table.setdefault(gold.category, Counter())[band] += 1
    return table


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _rows(m: dict) -> list[tuple[str, str]]:
    kp, mc = m["key_point"], m["misconception"]
    rerun = m["rerun_identical"]
    return [
        ("answers (ungraded)", f"{m['answers']} ({m['ungraded']})"),
        ("Spearman (score vs mark)", _fmt(m["spearman"])),
        ("quadratic weighted kappa (bands)", _fmt(m["qwk"])),
        ("band accuracy", _fmt(m["band_accuracy"])),
        ("key points: accuracy / F1 / AUC",
         " / ".join(_fmt(kp.get(k, float("nan"))) for k in ("accuracy", "f1", "auc"))),
        ("misconceptions: accuracy / F1 / AUC",
         " / ".join(_fmt(mc.get(k, float("nan"))) for k in ("accuracy", "f1", "auc"))),
        ("injection / keywords / master key in top band (human: not full)",
         f"{m['adversarial_full']} of {m['adversarial']}"),
        ("identical grades on re-run", f"{rerun[0]} of {rerun[1]}" if rerun else "not checked"),
        ("seconds per answer", f"{m['seconds_per_answer']:.1f}"),
    ]


def report(runs: dict[str, EvalRun], title: str) -> str:
    """A Markdown report; two runs are shown side by side."""
    computed = {name: metrics(run) for name, run in runs.items()}
    names = list(computed)
    lines = [f"# {title}", "", "| metric | " + " | ".join(names) + " |",
             "|---|" + "---|" * len(names)]
    rows = {name: _rows(m) for name, m in computed.items()}
    for i, (label, _) in enumerate(rows[names[0]]):
        lines.append(f"| {label} | " + " | ".join(rows[n][i][1] for n in names) + " |")
    for name in names:
        lines += ["", f"## {name}: bands, human (rows) × grader (columns)", "",
                  "| human \\ grader | fail | partial | full |", "|---|---|---|---|"]
        for band, row in zip(BANDS, computed[name]["confusion"], strict=True):
            lines.append(f"| {band.value} | " + " | ".join(map(str, row)) + " |")
        lines += ["", "| category | fail | partial | full |", "|---|---|---|---|"]
        for category, counts in sorted(by_category(runs[name]).items()):
            lines.append(f"| {category} | {counts['fail']} | {counts['partial']} | {counts['full']} |")
    return "\n".join(lines) + "\n"
