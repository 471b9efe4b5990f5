"""`tutor calibrate`: fit the judge head on labelled points, choose its C and review cut-off on dev.

The head is a logistic regression on each probe's signals (`tutor.core.decide.features`),
deciding at P(stated) 0.5 (`more_likely_than_not`). C and the review cut-off are chosen on the
dev run only, through the same decide step grading uses (`rescore_run`), so what is reported is
what will run. Plain P(yes), which is not calibrated, and a teacher's refit (`refit.py`) still
choose thresholds (`choose_thresholds`).
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from tutor.core.bank import Bank
from tutor.core.console import Console, plural
from tutor.core.decide import BandMap, PlainHead, ProbeHead, Thresholds, features, logit
from tutor.core.errors import TutorError
from tutor.core.grader import stored_signals
from tutor.core.signals import Signals
from tutor.teacher.evaluation import (
    EvalRun,
    joined,
    load_runs,
    metrics,
    rescore_run,
    safe_threshold_settings,
    subset,
)

C_GRID = (0.001, 0.003, 0.01, 0.03, 0.1)
REVIEW_GRID = tuple(round(0.40 + 0.025 * i, 3) for i in range(23))  # 0.40 … 0.95
MAX_FLAGGED = 0.20  # at most this share of dev answers sent to review
BAND_KNOTS = tuple(round(0.05 * i, 2) for i in range(21))  # where a fitted `BandMap` is tabulated
TUNE_SHARE = 4  # without a dev run, one question in this many tunes (C, thresholds, review)
CONTRAST = "state"  # what a head reads of each misconception's correction, chosen by LOSO (README)
H = TypeVar("H", ProbeHead, PlainHead)  # a head whose thresholds and review cut-off are chosen


@dataclass
class Points:
    """Every judged, labelled point of a run: the head's training rows."""

    kinds: list[str]
    signals: list[Signals]
    labels: np.ndarray
    questions: list[str]


def labelled_points(run: EvalRun) -> Points:
    kinds: list[str] = []
    signals, labels, questions = [], [], []
    for gold, result in zip(run.gold, run.grades, strict=True):
        truth = {**gold.key_points, **gold.misconceptions}
        for v in result.verdicts:
            if v.kind != "numeric" and v.p_yes is not None and v.point_id in truth:
                kinds.append(v.kind)
                signals.append(stored_signals(v))
                labels.append(truth[v.point_id])
                questions.append(gold.question_id)
    return Points(kinds, signals, np.asarray(labels, dtype=bool), questions)


def joined_points(a: Points, b: Points) -> Points:
    return Points(a.kinds + b.kinds, a.signals + b.signals, np.concatenate([a.labels, b.labels]),
                  a.questions + b.questions)


def fit(points: Points, c: float, use_state: bool, meta: dict[str, Any], contrast: str = "none") -> ProbeHead:
    from sklearn.linear_model import LogisticRegression

    x = features(points.kinds, points.signals, use_state, contrast)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=2000).fit((x - mean) / scale, points.labels)
    return ProbeHead(mean=mean, scale=scale, coef=model.coef_[0], intercept=float(model.intercept_[0]),
                     thresholds=Thresholds(0.5, 0.5), review_below=0.0, use_state=use_state,
                     meta={**meta, "C": c, "points": len(points.labels)}, contrast=contrast)


def log_loss(head: ProbeHead, points: Points) -> float:
    p = np.clip(head.probabilities(points.kinds, points.signals), 1e-6, 1 - 1e-6)
    y = points.labels
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def choose_thresholds(bank: Bank, dev: EvalRun, head: H,
                      allowed: Callable[[Thresholds], bool] = lambda t: True) -> H:
    """Best band accuracy on dev among the `allowed` settings that keep every injection /
    keyword / master-key answer out of the top band, averaged with the neighbouring grid
    settings so that a lucky corner of ~100 answers does not decide (then Spearman)."""
    settings = [(t, m) for t, m in safe_threshold_settings(bank, dev, lambda t: replace(head, thresholds=t))
                if allowed(t)]
    accuracy = {(t.key_point, t.misconception): m.band_accuracy for t, m in settings}
    ranked = sorted(settings, key=lambda tm: (round(_smoothed(accuracy, tm[0]), 3),
                                              _finite(tm[1].spearman)))
    if not ranked:
        raise TutorError("no threshold keeps every injection / keyword / master-key answer of the dev "
                         "run out of the top band; label more answers or check the dev file")
    return replace(head, thresholds=ranked[-1][0])


STATED_FROM = Thresholds(0.5, 0.5)  # a fitted head's decision: P(stated) more likely than not


def more_likely_than_not(bank: Bank, dev: EvalRun, head: ProbeHead) -> ProbeHead:
    """A fitted head is calibrated (its C chosen by log-loss), so a claim counts as stated when
    that is more likely than not: 0.5, for both kinds. Thresholds tuned for band accuracy on one
    split do not carry to other writers: dev chose 0.10 for key points, which credited hedged,
    negated and padded answers by writers it never saw (README, issue 26: leave-one-source-out,
    tuned against 0.5). The dev run still checks the rule: no injection, keyword list or master key
    may reach the top band at 0.5."""
    head = replace(head, thresholds=STATED_FROM)
    if metrics(rescore_run(bank, dev, head, with_doubt=False)).adversarial_full:
        raise TutorError("deciding at P(stated) 0.5, an injection, keyword-list or master-key answer of "
                         "the dev run reaches the top band; label more answers or check the dev file")
    return head


def _smoothed(accuracy: dict[tuple[float, float], float], t: Thresholds) -> float:
    step = 0.05
    near = [accuracy.get((round(t.key_point + i * step, 2), round(t.misconception + j * step, 2)))
            for i in (-1, 0, 1) for j in (-1, 0, 1)]
    found = [a for a in near if a is not None]
    return sum(found) / len(found)


def _finite(x: float) -> float:
    return round(x, 3) if np.isfinite(x) else -1.0


def calibrate_doubt(bank: Bank, dev: EvalRun, head: H) -> H:
    """The head with its band probability calibrated at the answer level on dev (`BandMap`: a
    logistic fit of whether the band was the examiner's on the raw probability's logit, smooth
    and monotone, so the review cut-off can still be chosen finely) and its review cut-off
    chosen on the calibrated figure (`choose_review`)."""
    from sklearn.linear_model import LogisticRegression

    raw = rescore_run(bank, dev, replace(head, band_map=BandMap()))
    pairs = [(logit(_sure(r.band_probability)), r.decided[1] == g.band)
             for g, r in zip(raw.gold, raw.grades, strict=True) if r.status == "graded"]
    if len({right for _, right in pairs}) < 2:  # all right or all wrong: nothing to fit
        return choose_review(bank, dev, head)
    x, right = zip(*pairs, strict=True)
    fitted = LogisticRegression().fit(np.array(x).reshape(-1, 1), right)
    sure = fitted.predict_proba(np.array([logit(p) for p in BAND_KNOTS]).reshape(-1, 1))[:, 1]
    band_map = BandMap(BAND_KNOTS, tuple(round(float(p), 4) for p in np.maximum.accumulate(sure)))
    return choose_review(bank, dev, replace(head, band_map=band_map))


def choose_review(bank: Bank, dev: EvalRun, head: H) -> H:
    """The highest review cut-off that flags at most MAX_FLAGGED of the dev answers."""
    rescored = rescore_run(bank, dev, head)
    probabilities = [_sure(g.band_probability) for g in rescored.grades if g.status == "graded"]
    allowed = [t for t in REVIEW_GRID
               if np.mean([p < t for p in probabilities]) <= MAX_FLAGGED]
    return replace(head, review_below=max(allowed, default=REVIEW_GRID[0]))


def _sure(band_probability: float | None) -> float:
    return 1.0 if band_probability is None else band_probability  # None: nothing was judged


def stateless_backends(run: EvalRun) -> list[str]:
    """The backends (an API server, the fake judge) whose verdicts in the run carry P(yes) but no
    hidden state: a head on hidden states can be neither fitted on them nor decide them."""
    return sorted({g.model for g in run.grades
                   if any(v.p_yes is not None and v.state is None for v in g.verdicts)})


def check_states(run: EvalRun, where: str) -> None:
    """One line, before any fit, where a head on hidden states is asked of runs without them."""
    if bare := stateless_backends(run):
        raise TutorError(
            f"{where}: graded by the {', '.join(bare)} backend, which gives P(yes) but no hidden states, so "
            "no head on hidden states can be fitted on them: `--head plain` decides them on P(yes) alone, "
            "`tutor calibrate --plain` fits on P(yes); grade with the local backend to fit a full head")


def contrast_read(points: Points, use_state: bool) -> str:
    """What a head fitted on these points reads of each misconception's correction: all of
    `CONTRAST` when every misconception carries its correction's probe, else nothing (runs
    saved before the judge asked corrections)."""
    carried = all(s.contrast is not None for k, s in zip(points.kinds, points.signals, strict=True)
                  if k == "misconception")
    if not carried:
        return "none"
    return CONTRAST if use_state else "p"


def calibrate(bank: Bank, train: EvalRun, dev: EvalRun, meta: dict[str, Any], use_state: bool = True,
              say: Callable[[str], None] | None = None, contrast: str | None = None) -> ProbeHead:
    """Fit on train; choose C and the review cut-off on dev, and decide at 0.5
    (`more_likely_than_not`; `say`: where the figures go; by default, stdout). `contrast`: what
    the head reads of each misconception's correction (by default, `contrast_read`)."""
    say = say or Console().say
    if use_state:
        check_states(joined([train, dev]), "the runs to fit on")
    train_points, dev_points = labelled_points(train), labelled_points(dev)
    contrast = contrast or contrast_read(joined_points(train_points, dev_points), use_state)
    if len(set(train_points.labels.tolist())) < 2:
        raise TutorError("the training answers need both stated and unstated points, with the "
                         "judge's signals (runs made by `tutor eval --out` on the local model)")
    say(f"train: {plural(len(train_points.labels), 'point')} ({int(train_points.labels.sum())} stated); "
        f"dev: {plural(len(dev_points.labels), 'point')}")
    fits = [fit(train_points, c, use_state, meta, contrast) for c in C_GRID]
    losses = [log_loss(h, dev_points) for h in fits]
    for c, loss in zip(C_GRID, losses, strict=True):
        say(f"  C={c:<6} dev log-loss {loss:.4f}")
    head = fits[int(np.argmin(losses))]
    head = calibrate_doubt(bank, dev, more_likely_than_not(bank, dev, head))
    m = metrics(rescore_run(bank, dev, head))
    say(f"chosen C={head.meta['C']}, thresholds {head.thresholds.key_point}/"
        f"{head.thresholds.misconception}, review below {head.review_below}: dev band accuracy "
        f"{m.band_accuracy:.3f}, Spearman {m.spearman:.3f}")
    return head


def tunes(question_id: str) -> bool:
    """Whether a question's answers tune rather than fit: fixed by its id, not by chance."""
    return int(hashlib.sha256(question_id.encode()).hexdigest(), 16) % TUNE_SHARE == 0


def fit_and_tune(run: EvalRun) -> tuple[EvalRun, EvalRun]:
    """The answers a head is fitted on and those its C, thresholds and review cut-off are
    tuned on: split by question, so tuning sees questions the fit did not."""
    return subset(run, lambda g: not tunes(g.question_id)), subset(run, lambda g: tunes(g.question_id))


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def fit_head(bank: Bank, train: list[Path], dev: Path | None, model: Path,
             labelled: list[Path] | None = None, plain: bool = False) -> ProbeHead:
    """`tutor calibrate`: a head fitted on saved runs, its provenance in its metadata. Without a
    dev run, one question in four tunes and the rest fit (`fit_and_tune`): the
    procedure the held-out report measures source by source, applied to every source."""
    from tutor.core.judge_prompts import prompts_hash
    from tutor.core.judges.llama_runtime import STATE_BLOCK
    from tutor.core.model_store import sha256_of

    runs = joined(load_runs(train, labelled))  # checks the files
    fitting, tuning = (runs, joined(load_runs([dev], labelled))) if dev else fit_and_tune(runs)
    meta = {"model_sha256": sha256_of(model), "prompts": prompts_hash(), "layer": f"l_out-{STATE_BLOCK}",
            "train": {f"{p.parent.name}/{p.name}": file_digest(p) for p in train},
            "dev": file_digest(dev) if dev else "one question in four of the train runs"}
    head = calibrate(bank, fitting, tuning, meta, use_state=not plain)
    head.meta["name"] = f"probe-{'plain' if plain else head.meta['layer']}-{head.fingerprint()}"
    return head
