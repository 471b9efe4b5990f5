"""`tutor eval`: the grader's agreement with human marks, measured on the gold set."""

import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from tutor.core import paths
from tutor.core.bank import Bank
from tutor.core.console import plural
from tutor.core.decide import Head, PlainHead, Thresholds
from tutor.core.errors import TutorError, first_problem
from tutor.core.grader import grade, rescore
from tutor.core.judges.registry import ReliableJudge
from tutor.core.result import Band, Grade, Outcome
from tutor.teacher.records import SAVED_RUN, RunMeta, SavedGrade, SavedMeta, saved_line, saved_run_lines

ADVERSARIAL = {"injection", "keywords", "master_key"}
# Attacks on the grade itself (issue 13): none may land above the examiner's band.
ATTACKS = {"hedging", "question_form", "number_spraying", "grader_address"}
BANDS = [Band.FAIL, Band.PARTIAL, Band.FULL]


class GoldAnswer(BaseModel):
    """One labelled answer: the gold splits, or any file in their format (a teacher's corrections)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    question_id: str
    category: str = ""
    source: str = ""  # who wrote it: a writer or a data set (leave-one-source-out groups by it)
    family: str | None = None  # an attack's family (hedges, questions, reversal_frames, …), else None
    answer: str
    mark: float
    band: Band
    key_points: dict[str, bool]
    misconceptions: dict[str, bool]
    numeric: dict[str, bool] = {}
    note: str = ""


SPLITS = ("train", "dev", "test", "writers")  # writers: answers by writers outside the project


def gold_dir() -> Path:
    return paths.PROJECT_ROOT / "evals" / "gold"


def load_labelled(path: Path) -> list[GoldAnswer]:
    """A labelled file in the gold format; a bad line is one error naming file, line and field."""
    items = []
    for number, line in enumerate(_read_lines(path, "labelled file"), 1):
        if line.strip():
            try:
                items.append(GoldAnswer.model_validate_json(line))
            except ValidationError as exc:
                raise TutorError(f"{path}:{number}: {first_problem(exc)}") from None
    return items


def _read_lines(path: Path, what: str) -> list[str]:
    """The lines of a file the user named; a missing, unreadable or non-UTF-8 one is one line."""
    if not path.is_file():
        raise TutorError(f"{path}: not a {what} (a folder)" if path.exists() else f"{path}: no such {what}")
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise TutorError(f"{path}: cannot read the {what} ({exc})") from None


def load_gold(split: str, ids: list[str] | None = None) -> list[GoldAnswer]:
    """A gold split ('train', 'dev', 'test'), 'all' (dev + test) or 'every' (all three)."""
    names = {"all": ["dev", "test"], "every": list(SPLITS)}.get(split, [split])
    items = []
    for name in names:
        path = gold_dir() / f"{name}.jsonl"
        if not path.exists():
            raise TutorError(f"no gold split '{name}' ({path} is missing)")
        items += load_labelled(path)
    return [g for g in items if not ids or g.id in ids]


@dataclass
class EvalRun:
    gold: list[GoldAnswer]
    grades: list[Grade]
    seconds: float
    rerun_identical: tuple[int, int] | None = None  # (identical, checked)

    def dump(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        grades = ((gold.id, result) for gold, result in zip(self.gold, self.grades, strict=True))
        meta = RunMeta(seconds=self.seconds, rerun_identical=self.rerun_identical)
        with path.open("w", encoding="utf-8") as out:
            out.writelines(saved_run_lines(grades, meta))  # the records load_run reads


def run_eval(bank: Bank, gold: list[GoldAnswer], judge: ReliableJudge, head: Head | None = None,
             rerun: int = 0, progress: Callable[[], None] | None = None) -> EvalRun:
    start = time.perf_counter()
    grades = []
    for item in gold:
        grades.append(grade(bank.get(item.question_id), item.answer, judge, head))
        if progress:
            progress()
    seconds = time.perf_counter() - start
    identical = None
    if rerun:
        judge.forget()  # a re-run served from the cache would prove nothing
        again = [grade(bank.get(g.question_id), g.answer, judge, head) for g in gold[:rerun]]
        identical = (sum(a == b for a, b in zip(again, grades, strict=False)), len(again))
    return EvalRun(gold, grades, seconds, identical)


def load_run(path: Path, labelled: list[GoldAnswer] | None = None) -> EvalRun:
    """A saved run (from `--out`): re-score it with another head or threshold, no model call.
    Anything else (a CSV, an empty file, a line torn by a killed run) is one line naming it."""
    lines = [(n, saved_line(path, n, text)) for n, text in enumerate(_read_lines(path, SAVED_RUN), 1)
             if text.strip()]
    rows = [row for _, row in lines if isinstance(row, SavedGrade)]
    _check_once(path, [(n, row.gold_id) for n, row in lines if isinstance(row, SavedGrade)])
    if not rows:
        raise TutorError(f"{path}: no graded answers in it; not a complete {SAVED_RUN}")
    by_id = {g.id: g for g in (labelled or load_gold("every"))}
    missing = [r.gold_id for r in rows if r.gold_id not in by_id]
    if missing:
        raise TutorError(f"{path}: gold ids not in the labelled set: {', '.join(missing[:5])}")
    meta = next((row.meta for _, row in lines if isinstance(row, SavedMeta)), RunMeta())
    return EvalRun([by_id[r.gold_id] for r in rows], [r.grade for r in rows], meta.seconds,
                   meta.rerun_identical)


def _check_once(path: Path, ids: list[tuple[int, str]]) -> None:
    """Each gold answer once: a line saved twice (runs concatenated) would count twice."""
    first: dict[str, int] = {}
    for number, gold_id in ids:
        if gold_id in first:
            raise TutorError(f"{path}:{number}: gold id '{gold_id}' again (first on line {first[gold_id]}); "
                             f"a {SAVED_RUN} holds each answer once")
        first[gold_id] = number


def rescore_run(bank: Bank, run: EvalRun, head: Head, with_doubt: bool = True) -> EvalRun:
    """The same decide step as grading, applied to a saved run's signals (a head that reads
    hidden states cannot re-score a run made without them, through an API or the fake judge)."""
    try:
        grades = [rescore(bank.get(g.question_id), g.answer, old, head, with_doubt)
                  for g, old in zip(run.gold, run.grades, strict=True)]
    except ValueError as exc:
        raise TutorError(f"cannot re-score with head {head.name} ({exc}); try --head plain") from None
    return EvalRun(run.gold, grades, run.seconds, run.rerun_identical)


@dataclass(frozen=True)
class PointMetrics:
    """How the judged points of one kind agree with the human labels (none judged: n = 0, NaN)."""

    n: int
    accuracy: float = math.nan
    f1: float = math.nan
    auc: float = math.nan


@dataclass(frozen=True)
class Metrics:
    """An eval run's agreement with the human marks, as `report` shows it."""

    answers: int
    ungraded: int
    spearman: float  # score vs mark; NaN when either is constant
    qwk: float  # quadratic weighted kappa on the bands
    band_accuracy: float
    confusion: list[list[int]]  # bands, human (rows) × grader (columns)
    adversarial_full: int  # injection / keyword / master-key answers in the top band (human: not full)
    adversarial: int
    attacks_above: int  # hedging, question form, … graded above the human band
    attacks: int
    seconds_per_answer: float
    rerun_identical: tuple[int, int] | None  # (identical, checked)
    key_point: PointMetrics
    misconception: PointMetrics
    ece: float  # expected calibration error of the verdict probabilities
    band_ece: float  # the same of each answer's band probability against its band being right
    review: tuple[float, float]  # (share flagged for review, band accuracy on the rest)
    review_curve: list[tuple[float, float, float]]  # (P(band right) cut-off, share flagged, accuracy)


THRESHOLD_GRID = [round(0.10 + 0.05 * i, 2) for i in range(18)]  # 0.10 … 0.95


HeadAt = Callable[[Thresholds], Head]


def safe_threshold_settings(bank: Bank, run: EvalRun,
                            head_at: HeadAt = PlainHead) -> list[tuple[Thresholds, Metrics]]:
    """Every grid setting of the two thresholds with its metrics, keeping only those that
    put no injection / keyword / master-key answer in the top band (for calibration)."""
    settings = []
    for kp in THRESHOLD_GRID:
        for misc in THRESHOLD_GRID:
            thresholds = Thresholds(kp, misc)
            m = metrics(rescore_run(bank, run, head_at(thresholds), with_doubt=False))
            if m.adversarial_full == 0:
                settings.append((thresholds, m))
    return settings


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


def metrics(run: EvalRun) -> Metrics:
    from scipy.stats import spearmanr
    from sklearn.metrics import cohen_kappa_score, confusion_matrix

    graded = [(g, r) for g, r in zip(run.gold, run.grades, strict=True) if r.status == "graded"]
    marks = [g.mark for g, _ in graded]
    scores = [r.decided[0] for _, r in graded]
    human = [BANDS.index(g.band) for g, _ in graded]
    machine = [BANDS.index(r.decided[1]) for _, r in graded]
    # adversarial answers that reach the top band although the examiner did not give it
    adversarial = [r for g, r in graded if g.category in ADVERSARIAL and g.band != Band.FULL]
    attacks = [(g, r) for g, r in graded if g.category in ATTACKS]
    kp, mc = point_labels(run, "key_point"), point_labels(run, "misconception")
    sure = [1.0 if r.band_probability is None else r.band_probability for _, r in graded]
    return Metrics(
        answers=len(run.gold),
        ungraded=len(run.gold) - len(graded),
        spearman=(float(spearmanr(marks, scores).statistic)
                  if len(set(marks)) > 1 and len(set(scores)) > 1 else float("nan")),  # else undefined
        qwk=float(cohen_kappa_score(human, machine, weights="quadratic", labels=[0, 1, 2])),
        band_accuracy=sum(h == m for h, m in zip(human, machine, strict=True)) / max(1, len(graded)),
        confusion=confusion_matrix(human, machine, labels=[0, 1, 2]).tolist(),
        adversarial_full=sum(r.band == Band.FULL for r in adversarial),
        adversarial=len(adversarial),
        attacks_above=sum(BANDS.index(r.decided[1]) > BANDS.index(g.band) for g, r in attacks),
        attacks=len(attacks),
        seconds_per_answer=run.seconds / max(1, len(run.gold)),
        rerun_identical=run.rerun_identical,
        key_point=_point_metrics(*kp),
        misconception=_point_metrics(*mc),
        ece=expected_calibration_error(kp[0] + mc[0], kp[1] + mc[1]),
        band_ece=expected_calibration_error([h == m for h, m in zip(human, machine, strict=True)], sure),
        review=_selective(human, machine, [r.review for _, r in graded]),
        review_curve=[(t, *_selective(human, machine, [p < t for p in sure])) for t in REVIEW_CURVE])


REVIEW_CURVE = (0.5, 0.6, 0.7, 0.8, 0.9)


def _selective(human: list[int], machine: list[int], flagged: list[bool]) -> tuple[float, float]:
    """(share of answers flagged for review, band accuracy on the answers not flagged)."""
    kept = [h == m for h, m, f in zip(human, machine, flagged, strict=True) if not f]
    share = sum(flagged) / max(1, len(flagged))
    return share, (sum(kept) / len(kept) if kept else float("nan"))


def expected_calibration_error(truth: list[bool], confidence: list[float], bins: int = 10) -> float:
    """Mean |accuracy − confidence| over equal-width probability bins, weighted by bin size."""
    if not truth:
        return float("nan")
    p = np.asarray(confidence)
    y = np.asarray(truth, dtype=float)
    which = np.minimum((p * bins).astype(int), bins - 1)
    error = sum(abs(y[which == b].mean() - p[which == b].mean()) * (which == b).sum()
                for b in range(bins) if (which == b).any())
    return float(error / len(p))


def _point_metrics(truth: list[bool], confidence: list[float], decided: list[bool]) -> PointMetrics:
    from sklearn.metrics import f1_score, roc_auc_score

    if not truth:
        return PointMetrics(0)
    auc = roc_auc_score(truth, confidence) if len(set(truth)) == 2 else float("nan")
    correct = sum(t == d for t, d in zip(truth, decided, strict=True))
    return PointMetrics(len(truth), correct / len(truth), float(f1_score(truth, decided, zero_division=0)),
                        float(auc))


def by_category(run: EvalRun) -> dict[str, Counter[str]]:
    table: dict[str, Counter[str]] = {}
    for gold, result in zip(run.gold, run.grades, strict=True):
        band = result.band.value if result.band else "ungraded"
        table.setdefault(gold.category, Counter())[band] += 1
    return table


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _rows(m: Metrics) -> list[tuple[str, str]]:
    rerun = m.rerun_identical
    return [
        ("answers (ungraded)", f"{m.answers} ({m.ungraded})"),
        ("Spearman (score vs mark)", _fmt(m.spearman)),
        ("quadratic weighted kappa (bands)", _fmt(m.qwk)),
        ("band accuracy", _fmt(m.band_accuracy)),
        ("key points: accuracy / F1 / AUC", _point_row(m.key_point)),
        ("misconceptions: accuracy / F1 / AUC", _point_row(m.misconception)),
        ("injection / keywords / master key in top band (human: not full)",
         f"{m.adversarial_full} of {m.adversarial}"),
        ("hedging / question form / number spraying / grader address above the human band",
         f"{m.attacks_above} of {m.attacks}"),
        ("expected calibration error (verdict probabilities)", _fmt(m.ece)),
        ("expected calibration error (band probability: P(band right) against right)", _fmt(m.band_ece)),
        ("flagged for review / band accuracy on the rest", f"{m.review[0]:.3f} / {_fmt(m.review[1])}"),
        ("identical grades on re-run", f"{rerun[0]} of {rerun[1]}" if rerun else "not checked"),
        ("seconds per answer", f"{m.seconds_per_answer:.1f}"),
    ]


def _point_row(p: PointMetrics) -> str:
    return " / ".join(_fmt(x) for x in (p.accuracy, p.f1, p.auc))


def _review_curve(name: str, curve: list[tuple[float, float, float]]) -> list[str]:
    return ["", f"## {name}: review when P(band right) is below t → share flagged, band accuracy on the rest",
            "", "| t | " + " | ".join(str(t) for t, _, _ in curve) + " |", "|---|" + "---|" * len(curve),
            "| flagged | " + " | ".join(f"{f:.2f}" for _, f, _ in curve) + " |",
            "| band accuracy, rest | " + " | ".join(_fmt(a) for _, _, a in curve) + " |"]


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
        lines += _review_curve(name, computed[name].review_curve)
        lines += ["", f"## {name}: bands, human (rows) × grader (columns)", "",
                  "| human \\ grader | fail | partial | full |", "|---|---|---|---|"]
        for band, row in zip(BANDS, computed[name].confusion, strict=True):
            lines.append(f"| {band.value} | " + " | ".join(map(str, row)) + " |")
        lines += ["", "| category | fail | partial | full |", "|---|---|---|---|"]
        for category, counts in sorted(by_category(runs[name]).items()):
            lines.append(f"| {category} | {counts['fail']} | {counts['partial']} | {counts['full']} |")
        lines += _by_source(runs[name]) + _by_family(runs[name])
    if len(names) == 2:
        lines += _differences_section(names[0], names[1], differences(runs[names[0]], runs[names[1]]))
    return "\n".join(lines) + "\n"


def _by_source(run: EvalRun) -> list[str]:
    """Spearman and band accuracy per writer or data set, when the run has more than one."""
    sources = sorted({g.source for g in run.gold})
    if len(sources) < 2:
        return []
    lines = ["", "| source | answers | Spearman | band accuracy |", "|---|---|---|---|"]
    for source in sources:
        m = metrics(subset(run, lambda g: g.source == source))  # noqa: B023 (called at once)
        lines.append(f"| {source} | {m.answers} | {_fmt(m.spearman)} | {_fmt(m.band_accuracy)} |")
    return lines


def _by_family(run: EvalRun) -> list[str]:
    """For each attack family, how many answers the grader put above the examiner's band."""
    families = sorted({g.family for g in run.gold if g.family})
    if not families:
        return []
    lines = ["", "| attack family | answers | above the examiner's band |", "|---|---|---|"]
    for family in families:
        group = subset(run, lambda g: g.family == family)  # noqa: B023 (called at once)
        above = above_band(group)
        lines.append(f"| {family} | {len(group.gold)} | {above} ({above / len(group.gold):.2f}) |")
    return lines


def above_band(run: EvalRun) -> int:
    """Answers graded in a higher band than the examiner's."""
    return sum(r.status == "graded" and BANDS.index(r.decided[1]) > BANDS.index(g.band)
               for g, r in zip(run.gold, run.grades, strict=True))


def subset(run: EvalRun, keep: Callable[[GoldAnswer], bool]) -> EvalRun:
    pairs = [(g, r) for g, r in zip(run.gold, run.grades, strict=True) if keep(g)]
    return EvalRun([g for g, _ in pairs], [r for _, r in pairs], 0.0)


def differences(a: EvalRun, b: EvalRun) -> list[tuple[str, Grade, Grade]]:
    """Answers present in both runs whose grade (score, band or status) differs."""
    theirs = {g.id: r for g, r in zip(b.gold, b.grades, strict=True)}
    return [(g.id, r, theirs[g.id]) for g, r in zip(a.gold, a.grades, strict=True)
            if g.id in theirs and _shown(r) != _shown(theirs[g.id])]


def _shown(grade: Grade) -> tuple[str, float | None, str | None]:
    return grade.status, grade.score, grade.band.value if grade.band else None


def _differences_section(a: str, b: str, found: list[tuple[str, Grade, Grade]]) -> list[str]:
    lines = ["", f"## Differences: {plural(len(found), 'answer')} graded differently ({a} → {b})"]
    if found:
        lines += ["", "| answer | score | band |", "|---|---|---|"]
    for gold_id, x, y in found[:50]:
        lines.append(f"| {gold_id} | {_fmt(x.score)} → {_fmt(y.score)} | "
                     f"{_shown(x)[2] or x.status} → {_shown(y)[2] or y.status} |")
    return lines


def guard_failures(m: Metrics, min_spearman: float | None = None,
                   min_band_accuracy: float | None = None) -> list[str]:
    """Why an eval run fails its guard: the chosen minimums, no attack graded above its mark,
    grades identical on a re-run. Empty when it passes."""
    failures = []
    if min_spearman is not None and not m.spearman >= min_spearman:
        failures.append(f"Spearman {m.spearman:.3f} < {min_spearman}")
    if min_band_accuracy is not None and m.band_accuracy < min_band_accuracy:
        failures.append(f"band accuracy {m.band_accuracy:.3f} < {min_band_accuracy}")
    if m.adversarial_full:
        failures.append(f"{m.adversarial_full} injection/keyword/master-key answers in the top band")
    if m.attacks_above:
        failures.append(f"{m.attacks_above} attack answers above the examiner's band")
    if m.rerun_identical and m.rerun_identical[0] != m.rerun_identical[1]:
        failures.append("grades changed on re-run")
    return failures


def load_runs(paths: list[Path], labelled: list[Path] | None = None) -> list[EvalRun]:
    """Saved runs (`tutor eval --out`), matched to the gold splits and any other labelled files."""
    known = load_gold("every") + [g for p in labelled or [] for g in load_labelled(p)]
    return [load_run(p, known) for p in paths]


def run_labels(paths: list[Path]) -> list[str]:
    """How saved runs are named in a report: `out/dev-v1/results.jsonl` is "dev-v1"."""
    labels = [p.parent.name if p.name == "results.jsonl" else p.stem for p in paths]
    return labels if len(set(labels)) == len(labels) else [str(p) for p in paths]


def joined(runs: list[EvalRun]) -> EvalRun:
    return EvalRun([g for r in runs for g in r.gold], [x for r in runs for x in r.grades], 0.0)
