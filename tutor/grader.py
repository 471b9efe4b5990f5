"""The one grading path every command uses.

numeric checks → key-point and misconception probes → score → `Grade`.
"""

from dataclasses import dataclass

from tutor.answer import PreparedAnswer, best_quote, prepare
from tutor.errors import TutorError
from tutor.grade import FULL_FROM, Band, Grade, Outcome, Verdict
from tutor.judges.base import Judge, JudgeRequest
from tutor.numeric import evaluate
from tutor.rubric import Rubric

ESSENTIAL_MISSING_CAP = round(FULL_FROM - 0.01, 2)
# Examiners give partial answers more than their share of points (one of four points ≈ 0.35,
# not 0.25): the weighted share is raised to this power. Fitted on the gold dev split
# (evals/calibrate.py); with the gold set's own point labels it reproduces 98% of human bands.
SCORE_CURVE = 0.6


@dataclass(frozen=True)
class Thresholds:
    """P(yes) above which a claim counts as stated. Calibrated on the gold dev split."""

    key_point: float = 0.65
    misconception: float = 0.75


def grade(rubric: Rubric, answer: str, judge: Judge | None,
          thresholds: Thresholds = Thresholds()) -> Grade:
    prepared = prepare(answer)
    verdicts = _numeric_verdicts(rubric, prepared)
    if prepared.contentless or judge is None:
        verdicts += _unjudged_verdicts(rubric)
        mode, model = "none", ""
    else:
        try:
            verdicts += _judged_verdicts(rubric, prepared, judge, thresholds)
        except TutorError as exc:
            return Grade.ungraded(rubric.id, exc.message, model=judge.name,
                                  rubric_version=rubric.version, pointer=rubric.pointer)
        mode, model = judge.mode, judge.name
    notices = prepared.notices + (["Nothing to grade: the answer has no claims."]
                                  if prepared.contentless else [])
    if prepared.keyword_list:
        notices.append("This reads as a list of terms without claims: it cannot reach full marks.")
    score = compute_score(rubric, verdicts, capped=prepared.keyword_list)
    return Grade(question_id=rubric.id, score=score, band=Band.of(score), verdicts=verdicts,
                 notices=notices, pointer=rubric.pointer, model=model, mode=mode,
                 rubric_version=rubric.version)


def _numeric_verdicts(rubric: Rubric, prepared: PreparedAnswer) -> list[Verdict]:
    verdicts = []
    for check in rubric.numeric:
        outcome = evaluate(check, prepared.text)
        if outcome.passed:
            result = Outcome.HIT
        else:
            result = Outcome.WRONG if outcome.found else Outcome.MISS
        verdicts.append(Verdict(point_id=check.id, kind="numeric", claim=check.quantity,
                                outcome=result, confidence=1.0, evidence=outcome.matched,
                                detail=outcome.detail, pointer=rubric.pointer))
    return verdicts


def _unjudged_verdicts(rubric: Rubric) -> list[Verdict]:
    verdicts = [Verdict(point_id=p.id, kind="key_point", claim=p.claim, outcome=Outcome.MISS,
                        confidence=0.0, pointer=rubric.pointer) for p in rubric.key_points]
    verdicts += [Verdict(point_id=m.id, kind="misconception", claim=m.claim,
                         outcome=Outcome.CLEAR, confidence=0.0, pointer=rubric.pointer)
                 for m in rubric.misconceptions]
    return verdicts


def _judged_verdicts(rubric: Rubric, prepared: PreparedAnswer, judge: Judge,
                     thresholds: Thresholds) -> list[Verdict]:
    claims = tuple(p.claim for p in rubric.key_points)
    claims += tuple(m.claim for m in rubric.misconceptions)
    request = JudgeRequest(question=rubric.prompt, answer=prepared.text, claims=claims)
    probabilities = [round(p, 3) for p in judge.judge(request)]
    if len(probabilities) != len(claims):
        raise TutorError(f"judge returned {len(probabilities)} results for {len(claims)} claims")
    verdicts = []
    for point, p in zip(rubric.key_points, probabilities, strict=False):
        hit = p >= thresholds.key_point
        verdicts.append(Verdict(
            point_id=point.id, kind="key_point", claim=point.claim, confidence=p,
            outcome=Outcome.HIT if hit else Outcome.MISS, pointer=rubric.pointer,
            evidence=best_quote(point.claim, prepared.sentences) if hit else None))
    for wrong, p in zip(rubric.misconceptions, probabilities[len(rubric.key_points):], strict=True):
        stated = p >= thresholds.misconception
        verdicts.append(Verdict(
            point_id=wrong.id, kind="misconception", claim=wrong.claim, confidence=p,
            outcome=Outcome.WRONG if stated else Outcome.CLEAR, detail=wrong.correction,
            evidence=best_quote(wrong.claim, prepared.sentences) if stated else None,
            pointer=rubric.pointer))
    return verdicts


def compute_score(rubric: Rubric, verdicts: list[Verdict], capped: bool = False) -> float:
    """Weighted share of key points and numbers (curved), reduced by each misconception stated,
    and kept below `full` when an essential point or number is missing or `capped` is set."""
    outcome = {v.point_id: v.outcome for v in verdicts}
    kp_total = sum(p.weight for p in rubric.key_points)
    hits = [p for p in rubric.key_points if outcome[p.id] == Outcome.HIT]
    if rubric.at_least:
        kp_share = min(len(hits), rubric.at_least) / rubric.at_least
    else:
        kp_share = sum(p.weight for p in hits) / kp_total
    num_total = sum(n.weight for n in rubric.numeric)
    num_got = sum(n.weight for n in rubric.numeric if outcome[n.id] == Outcome.HIT)
    score = ((kp_share * kp_total + num_got) / (kp_total + num_total)) ** SCORE_CURVE
    for wrong in rubric.misconceptions:
        if outcome[wrong.id] == Outcome.WRONG:
            score *= 1 - wrong.penalty
    if _essential_missing(rubric, outcome) or capped:
        score = min(score, ESSENTIAL_MISSING_CAP)
    return round(min(1.0, max(0.0, score)), 3)


def _essential_missing(rubric: Rubric, outcome: dict[str, Outcome]) -> bool:
    numbers = any(n.essential and outcome[n.id] != Outcome.HIT for n in rubric.numeric)
    if rubric.at_least:
        return numbers
    points = any(p.essential and outcome[p.id] != Outcome.HIT for p in rubric.key_points)
    return numbers or points
