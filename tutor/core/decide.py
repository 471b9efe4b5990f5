"""The decide step: the model's signals → calibrated P(stated) → verdicts → score → doubt.

Grading (`tutor.core.grader`), `tutor eval` and `tutor calibrate` all go through `decide`, so a
head, a threshold or the review rule means the same thing everywhere. A `Head` turns each
claim's `Signals` into a probability; the head's per-kind thresholds turn that into a verdict.
"""

import hashlib
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from itertools import product
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np

from tutor.core.errors import TutorError
from tutor.core.judge_prompts import prompts_hash
from tutor.core.result import Band, Outcome, Verdict
from tutor.core.rubric import Rubric
from tutor.core.signals import Provenance, Signals

log = logging.getLogger("tutor.judge")

ESSENTIAL_MISSING_CAP = 0.79
# A list of terms without claims (`PreparedAnswer.keyword_list`) names words, not what they do:
# every source of the gold set marks one 0.0–0.1 (`fail`), whatever the judge makes of the
# terms. A list that carries a right number ("B: 4096x16 = 65,536, A: …") claims something:
# it keeps the cap below `full` only.
TERM_LIST_CAP = 0.1
# A wrong essential number (the 21 GB of 64 query heads where 8 KV heads give 2.7 GB) leaves
# method credit only: examiners mark such answers about 0.15, in the `fail` band.
WRONG_NUMBER_CAP = 0.25
# Examiners give partial answers more than their share of points (one of four points ≈ 0.35,
# not 0.25): the weighted share is raised to this power. Fitted on the gold dev split
# (evals/calibrate.py); with the gold set's own point labels it reproduces 98% of human bands.
SCORE_CURVE = 0.6
# On a list question (`at_least`: k of the key points suffice) one lucky point decides the band,
# so a key point counts only when the judge is at least this sure of it.
AT_LEAST_CONFIDENT = 0.5
MAX_ENUMERATED = 8  # points whose uncertainty is propagated exactly to the band (2^8 cases)


@dataclass(frozen=True)
class Thresholds:
    """Probability above which a claim counts as stated, per kind."""

    key_point: float = 0.65
    misconception: float = 0.75

    def of(self, kind: str) -> float:
        return self.key_point if kind == "key_point" else self.misconception


@dataclass(frozen=True)
class BandMap:
    """How often a band is the examiner's, as a function of the raw band probability.

    The raw probability treats the points as independent, so it runs low where several are in
    doubt: of the grades an earlier head put below 0.4 on dev, 7 in 10 were right, and a panel
    said "full" and "about 8% sure" of it at once. The map, fitted at the answer level (a logistic
    fit on the tuning answers: `calibration.calibrate_doubt`), makes the figure shown a frequency;
    it is monotone, so the order of doubt and the answers sent to review keep their order.
    Identity until fitted."""

    raw: tuple[float, ...] = (0.0, 1.0)
    sure: tuple[float, ...] = (0.0, 1.0)

    def __call__(self, raw: float) -> float:
        return round(float(np.interp(raw, self.raw, self.sure)), 3)


class Head(Protocol):
    """Signals → P(the answer states the claim), calibrated on labelled points."""

    @property
    def name(self) -> str: ...

    @property
    def thresholds(self) -> Thresholds: ...

    @property
    def review_below(self) -> float:
        """A grade whose band is right with less probability goes to review."""
        ...

    @property
    def band_map(self) -> BandMap:
        """Raw band probability → how often such a band is right (`BandMap`)."""
        ...

    def probabilities(self, kinds: Sequence[str], signals: list[Signals]) -> list[float]: ...

    def with_thresholds(self, key_point: float | None, misconception: float | None) -> "Head":
        """The same head deciding at other thresholds (None keeps the head's own)."""
        ...


def _thresholds(head: Head, key_point: float | None, misconception: float | None) -> Thresholds:
    t = head.thresholds
    return Thresholds(t.key_point if key_point is None else key_point,
                      t.misconception if misconception is None else misconception)


@dataclass(frozen=True)
class PlainHead:
    """P(yes) taken as it is: for backends without hidden states, or when no trained head
    matches the model and prompts. Thresholds were chosen on the gold dev split."""

    thresholds: Thresholds = Thresholds()
    review_below: float = 0.6
    name: str = "p_yes"
    band_map: BandMap = BandMap()

    def probabilities(self, kinds: Sequence[str], signals: list[Signals]) -> list[float]:
        return [s.p_yes for s in signals]

    def with_thresholds(self, key_point: float | None, misconception: float | None) -> "PlainHead":
        return replace(self, thresholds=_thresholds(self, key_point, misconception))


def logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


CONTRASTS = ("none", "p", "state")  # what a head reads of a misconception's correction probe


def features(kinds: Sequence[str], signals: list[Signals], use_state: bool = True,
             contrast: str = "none") -> np.ndarray:
    """One row per claim: [logit P(yes), is-misconception, their product, hidden state…], then
    for a misconception, what its correction's probe gave (`contrast`: "p", its logit P(yes) and
    the difference of the two logits; "state", also the difference of the two hidden states)."""
    rows = []
    for kind, s in zip(kinds, signals, strict=True):
        misc = 1.0 if kind == "misconception" else 0.0
        row = np.array([logit(s.p_yes), misc, misc * logit(s.p_yes)])
        if use_state:
            row = np.concatenate([row, _state(s)])
        if contrast != "none":
            row = np.concatenate([row, _contrast_row(s, misc, use_state and contrast == "state")])
        rows.append(row)
    return np.vstack(rows)


def _state(s: Signals) -> np.ndarray:
    if s.state is None:
        raise ValueError("this head needs hidden states, and the signals carry none")
    return s.state


def _contrast_row(s: Signals, misc: float, with_state: bool) -> np.ndarray:
    if not misc:
        return np.zeros(2 + (len(_state(s)) if with_state else 0))
    c = s.contrast
    if c is None:
        raise ValueError("this head reads each misconception's correction, and the signals carry none")
    row = np.array([logit(c.p_yes), logit(s.p_yes) - logit(c.p_yes)])
    return np.concatenate([row, np.subtract(_state(s), _state(c))]) if with_state else row


@dataclass
class ProbeHead:
    """A logistic regression on the judge's hidden state and logit P(yes) (a linear probe),
    trained on labelled points by `tutor calibrate`. Applied as one dot product."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    thresholds: Thresholds
    review_below: float
    use_state: bool
    meta: dict[str, Any] = field(default_factory=dict)  # model sha256, prompt hash, layer, training data
    contrast: str = "none"  # what it reads of each misconception's correction (`features`)
    band_map: BandMap = BandMap()

    @property
    def name(self) -> str:
        return str(self.meta.get("name", "probe"))

    def with_thresholds(self, key_point: float | None, misconception: float | None) -> "ProbeHead":
        return replace(self, thresholds=_thresholds(self, key_point, misconception))

    def fingerprint(self) -> str:
        digest = hashlib.sha256(self.coef.tobytes() + self.mean.tobytes() + self.scale.tobytes())
        return digest.hexdigest()[:8]

    def probabilities(self, kinds: Sequence[str], signals: list[Signals]) -> list[float]:
        x = (features(kinds, signals, self.use_state, self.contrast) - self.mean) / self.scale
        z = x @ self.coef + self.intercept
        return [round(float(p), 4) for p in 1 / (1 + np.exp(-z))]

    def save(self, path: Path) -> None:
        meta = {**self.meta, "thresholds": [self.thresholds.key_point, self.thresholds.misconception],
                "review_below": self.review_below, "use_state": self.use_state,
                "intercept": self.intercept, "contrast": self.contrast,
                "band_map": [list(self.band_map.raw), list(self.band_map.sure)]}
        with path.open("wb") as out:
            np.savez_compressed(out, mean=self.mean, scale=self.scale, coef=self.coef,
                                meta=np.array(json.dumps(meta, sort_keys=True)))

    @classmethod
    def load(cls, path: Path | IO[bytes]) -> "ProbeHead":
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            return cls(mean=data["mean"], scale=data["scale"], coef=data["coef"],
                       intercept=float(meta["intercept"]), thresholds=Thresholds(*meta["thresholds"]),
                       review_below=float(meta["review_below"]), use_state=bool(meta["use_state"]),
                       meta=meta, contrast=_known_contrast(meta.get("contrast", "none")),
                       band_map=_band_map(meta.get("band_map")))


def _known_contrast(value: object) -> str:
    if value not in CONTRASTS:
        raise ValueError(f"unknown contrast {value!r}")
    return str(value)


def _band_map(stored: list[list[float]] | None) -> BandMap:
    """A head saved before band maps existed reads its raw band probability as it is."""
    if stored is None:
        return BandMap()
    raw, sure = stored
    return BandMap(tuple(map(float, raw)), tuple(map(float, sure)))


SHIPPED_HEAD = "qwen2.5-coder-1.5b-instruct-q4_k_m.npz"


def shipped_head() -> ProbeHead | None:
    source = resources.files("tutor.core.heads") / SHIPPED_HEAD
    if not source.is_file():
        return None
    with source.open("rb") as handle:
        return ProbeHead.load(handle)


def load_head(option: str | None) -> "ProbeHead | PlainHead":
    """`None` → the shipped head (or plain P(yes) if none ships); "plain"; or a head file."""
    if option == "plain":
        return PlainHead()
    if option:
        try:
            return ProbeHead.load(Path(option).expanduser())
        except (OSError, ValueError, KeyError) as exc:
            raise TutorError(f"judge head {option}: not a head file from `tutor calibrate` ({exc})") from None
    return shipped_head() or PlainHead()


def head_for(option: str | None, provenance: Provenance | None) -> "ProbeHead | PlainHead":
    """The head asked for when it was fitted on these signals (this model, these prompts and this
    layer); otherwise plain P(yes), with a notice (never a head applied to signals it was not
    fitted on). A backend without provenance (P(yes) alone) is decided by plain P(yes)."""
    if provenance is None:
        return PlainHead()
    head = load_head(option)
    if isinstance(head, PlainHead):
        return head
    fitted_on = (head.meta.get("model_sha256"), head.meta.get("prompts"), head.meta.get("layer"))
    if fitted_on != (provenance.model_sha256, prompts_hash(), provenance.layer):
        log.warning("the judge head %s was fitted on another model, prompts or layer; grading "
                    "with plain P(yes) (refit it with `tutor calibrate`)", head.name)
        return PlainHead()
    return head


# ---- verdicts, score and doubt -------------------------------------------------------------

def stated_from(rubric: Rubric, kind: str, head: Head) -> float:
    """The probability from which a claim of this kind counts as stated in this rubric."""
    threshold = head.thresholds.of(kind)
    if rubric.at_least and kind == "key_point":
        return max(threshold, AT_LEAST_CONFIDENT)
    return threshold


def judged_outcome(kind: str, stated: bool) -> Outcome:
    if kind == "key_point":
        return Outcome.HIT if stated else Outcome.MISS
    return Outcome.WRONG if stated else Outcome.CLEAR


def compute_score(rubric: Rubric, outcome: dict[str, Outcome], term_list: bool = False) -> float:
    """Weighted share of key points and numbers (curved), reduced by each misconception stated,
    kept below `full` when an essential point or number is missing, at method credit when an
    essential number is wrong, and in `fail` for a `term_list` with no right number."""
    kp_total = sum(p.weight for p in rubric.key_points)
    hits = [p for p in rubric.key_points if outcome[p.id] == Outcome.HIT]
    if rubric.at_least:
        kp_share = min(len(hits), rubric.at_least) / rubric.at_least
    else:
        kp_share = sum(p.weight for p in hits) / kp_total
    num_total = sum(n.weight for n in rubric.numeric)
    num_got = sum(n.weight for n in rubric.numeric if outcome[n.id] == Outcome.HIT)
    score: float = ((kp_share * kp_total + num_got) / (kp_total + num_total)) ** SCORE_CURVE
    for wrong in rubric.misconceptions:
        if outcome[wrong.id] == Outcome.WRONG:
            score *= 1 - wrong.penalty
    if _essential_missing(rubric, outcome):
        score = min(score, ESSENTIAL_MISSING_CAP)
    if term_list:
        score = min(score, _term_list_cap(rubric, outcome))
    if any(n.essential and outcome[n.id] == Outcome.WRONG for n in rubric.numeric):
        score = min(score, WRONG_NUMBER_CAP)
    return round(min(1.0, max(0.0, score)), 3)


def _term_list_cap(rubric: Rubric, outcome: dict[str, Outcome]) -> float:
    numbers = any(outcome[n.id] == Outcome.HIT for n in rubric.numeric)
    return ESSENTIAL_MISSING_CAP if numbers else TERM_LIST_CAP


def _essential_missing(rubric: Rubric, outcome: dict[str, Outcome]) -> bool:
    numbers = any(n.essential and outcome[n.id] != Outcome.HIT for n in rubric.numeric)
    if rubric.at_least:
        return numbers
    points = any(p.essential and outcome[p.id] != Outcome.HIT for p in rubric.key_points)
    return numbers or points


@dataclass(frozen=True)
class Doubt:
    band_probability: float | None  # P(the decided band is the examiner's), from the verdicts
    review: bool
    uncertain: list[str]  # point ids whose verdict could flip the band, least certain first


def doubt(rubric: Rubric, verdicts: list[Verdict], term_list: bool, review_below: float,
          band_map: BandMap = BandMap()) -> Doubt:
    """Propagate each judged verdict's probability to the band: the chance that the band
    stays what was decided, treating points as independent, then read through `band_map`. The
    least certain points are enumerated exactly; the rest keep their decided outcome."""
    outcome = {v.point_id: v.outcome for v in verdicts}
    band = rubric.band_of(compute_score(rubric, outcome, term_list))
    judged = sorted((v for v in verdicts if v.kind != "numeric" and 0.02 < v.confidence < 0.98),
                    key=lambda v: abs(v.confidence - 0.5))[:MAX_ENUMERATED]
    if not judged:
        sure = band_map(1.0)
        return Doubt(sure, sure < review_below, [])
    same = 0.0
    for stated in product((False, True), repeat=len(judged)):
        weight = 1.0
        trial = dict(outcome)
        for v, s in zip(judged, stated, strict=True):
            weight *= v.confidence if s else 1 - v.confidence
            trial[v.point_id] = judged_outcome(v.kind, s)
        if rubric.band_of(compute_score(rubric, trial, term_list)) == band:
            same += weight
    flips = [v.point_id for v in judged if _flip_changes_band(rubric, outcome, v, band, term_list)
             and 0.1 < v.confidence < 0.9]
    probability = band_map(same)
    return Doubt(probability, probability < review_below, flips)


def _flip_changes_band(rubric: Rubric, outcome: dict[str, Outcome], verdict: Verdict, band: Band,
                       term_list: bool) -> bool:
    stated = verdict.outcome in (Outcome.HIT, Outcome.WRONG)
    trial = {**outcome, verdict.point_id: judged_outcome(verdict.kind, not stated)}
    return rubric.band_of(compute_score(rubric, trial, term_list)) != band
