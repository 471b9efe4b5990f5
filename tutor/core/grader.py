"""The one grading path every command uses.

numeric checks → probe (the judge's signals per claim) → decide (`tutor.core.decide`) → `Grade`.
"""

import base64
import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Literal

import numpy as np

from tutor.core.answer import PreparedAnswer, best_quote, judge_form, prepare
from tutor.core.decide import Doubt, Head, compute_score, doubt, head_for, judged_outcome, stated_from
from tutor.core.errors import ExitCode, TutorError
from tutor.core.judges.base import Judge, JudgeRequest
from tutor.core.numeric import NumericOutcome, outcomes_of
from tutor.core.result import Grade, Outcome, Verdict
from tutor.core.rubric import KeyPoint, Misconception, NumericCheck, Rubric
from tutor.core.signals import OnSignals, Signals

OnVerdict = Callable[[Verdict], None]
TERM_LIST_NOTICE = ("This reads as a list of terms without claims, which earns a fail: say what "
                    "each one does or why it matters.")


def grade(rubric: Rubric, answer: str, judge: Judge | None, head: Head | None = None,
          on_verdict: OnVerdict | None = None) -> Grade:
    """`on_verdict` hears each verdict as soon as it is known: the numeric checks first, then
    each judged point as its probe finishes (the verdicts of the returned Grade, in stream order).
    Without a `head`, the judge's `default_head`."""
    prepared = prepare(answer)
    head = head if head is not None else default_head(judge)
    if prepared.contentless or judge is None:
        return _without_judge(rubric, prepared, head)
    if on_verdict:
        for verdict in _numeric_verdicts(rubric, prepared):
            on_verdict(verdict)
    try:
        signals = probe(rubric, prepared, judge, _streamer(rubric, prepared, head, on_verdict, judge.name))
    except TutorError as exc:
        if exc.exit_code == ExitCode.MODEL:
            raise  # a damaged model fails every answer: stop, do not grade the class "ungraded"
        return Grade.ungraded(rubric.id, exc.message, model=judge.name,
                              rubric_version=rubric.version, pointer=rubric.pointer)
    return finish(rubric, prepared, signals, head, mode=judge.mode, model=judge.name)


def _without_judge(rubric: Rubric, prepared: PreparedAnswer, head: Head, with_doubt: bool = True) -> Grade:
    """The grade of an answer no judge reads (nothing left to judge, or no judge): numbers only."""
    return finish(rubric, prepared, None, head, mode="none", model="", with_doubt=with_doubt)


def default_head(judge: Judge | None) -> Head:
    """The head when none is named (tests, scripts): the shipped head where it was fitted on the
    judge's signals, else plain P(yes). The commands choose theirs once, from the settings and
    the course, when they build the judge (`tutor.edge.app.State.head_for`)."""
    return head_for(None, judge.provenance if judge is not None else None)


def rescore(rubric: Rubric, answer: str, old: Grade, head: Head, with_doubt: bool = True) -> Grade:
    """Decide again from the signals stored in a grade (no model call): a new head or
    threshold applied to saved results gives what grading with it would have given. An answer
    that has nothing left to judge (the preparation rules changed since) is decided as `grade`
    decides it, on no signals."""
    if old.status != "graded":
        return old
    prepared = prepare(answer)
    if prepared.contentless:
        return _without_judge(rubric, prepared, head, with_doubt)
    judged = [v for v in old.verdicts if v.kind != "numeric"]
    signals = None
    if old.mode != "none" and all(v.p_yes is not None for v in judged):
        signals = [stored_signals(v) for v in judged]
    return finish(rubric, prepared, signals, head, old.mode, old.model, with_doubt)


def overruled(rubric: Rubric, answer: str, machine: Grade, outcomes: Mapping[str, Outcome]) -> Grade:
    """The grade with a person's verdicts in place of the grader's for the points in `outcomes`
    (a teacher's review): the same score rule and band; the person's verdicts are certain, and
    a reviewed answer is no longer flagged for review."""
    if machine.status != "graded":
        return machine
    prepared = prepare(answer)
    verdicts = [_set_by_person(v, outcomes[v.point_id], prepared) if v.point_id in outcomes else v
                for v in machine.verdicts]
    score = compute_score(rubric, {v.point_id: v.outcome for v in verdicts}, term_list=prepared.keyword_list)
    sure = doubt(rubric, verdicts, prepared.keyword_list, review_below=0.0)
    return machine.model_copy(update={"verdicts": verdicts, "score": score, "band": rubric.band_of(score),
                                      "band_probability": sure.band_probability, "review": False,
                                      "uncertain": sure.uncertain})


def _set_by_person(verdict: Verdict, outcome: Outcome, prepared: PreparedAnswer) -> Verdict:
    stated = outcome in (Outcome.HIT, Outcome.WRONG)
    evidence = best_quote(verdict.claim, prepared.sentences) if stated and verdict.kind != "numeric" \
        else verdict.evidence if stated else None
    return verdict.model_copy(update={"outcome": outcome, "evidence": evidence,
                                      "confidence": 1.0 if stated or verdict.kind == "numeric" else 0.0})


JudgedKind = Literal["key_point", "misconception"]


def claims_of(rubric: Rubric) -> tuple[list[JudgedKind], list[str]]:
    """(kinds, probe texts) for every judged point, key points first."""
    kinds: list[JudgedKind] = ["key_point"] * len(rubric.key_points)
    kinds += ["misconception"] * len(rubric.misconceptions)
    return kinds, [p.asked for p in judged_points(rubric)]


def asked_of(rubric: Rubric) -> list[str]:
    """What the judge is asked, in order: every judged point (`claims_of`), then each
    misconception's correction, the contrast its misconception is decided against."""
    return [*claims_of(rubric)[1], *(m.correction for m in rubric.misconceptions)]


def contrast_index(rubric: Rubric, index: int) -> int | None:
    """Where the judged point at `index` has its correction among the asked claims (None for
    a key point): misconception j of the rubric is contrasted with asked claim points + j."""
    points = len(rubric.key_points) + len(rubric.misconceptions)
    return points + index - len(rubric.key_points) if index >= len(rubric.key_points) else None


def paired(rubric: Rubric, asked: list[Signals]) -> list[Signals]:
    """One Signals per judged point, each misconception carrying its correction's."""
    points = len(rubric.key_points) + len(rubric.misconceptions)
    return [replace(asked[i], contrast=None if (c := contrast_index(rubric, i)) is None else asked[c])
            for i in range(points)]


def judged_points(rubric: Rubric) -> list[KeyPoint | Misconception]:
    return [*rubric.key_points, *rubric.misconceptions]


def prefill(rubric: Rubric, answer: str, judge: Judge) -> None:
    """Let the judge start on an answer that is still being written (see `Judge.prefill`)."""
    judge.prefill(request_for(rubric, prepare(answer)))


def request_for(rubric: Rubric, prepared: PreparedAnswer) -> JudgeRequest:
    """What the judge is asked: the answer in its judge form (`judge_form`), so answers that
    differ only in sentence marks, case or spacing are one request (and one cache entry)."""
    return JudgeRequest(question=rubric.prompt, answer=judge_form(prepared.text),
                        claims=tuple(asked_of(rubric)))


def _streamer(rubric: Rubric, prepared: PreparedAnswer, head: Head,
              on_verdict: OnVerdict | None, judge_name: str) -> OnSignals | None:
    """Turns each claim's signals into its verdict for `on_verdict`, once per claim: a
    misconception's as soon as both it and its correction are heard."""
    if on_verdict is None:
        return None
    kinds, _ = claims_of(rubric)
    heard: dict[int, Signals] = {}
    told: set[int] = set()

    def hear(index: int, signals: Signals) -> None:
        _check_signals(judge_name, signals)
        heard.setdefault(index, as_stored(signals))
        for point in range(len(kinds)):
            c = contrast_index(rubric, point)
            if point in told or point not in heard or (c is not None and c not in heard):
                continue
            told.add(point)
            own = replace(heard[point], contrast=None if c is None else heard[c])
            on_verdict(_judged_verdict(rubric, prepared, point, kinds[point], own, head))
    return hear


def probe(rubric: Rubric, prepared: PreparedAnswer, judge: Judge,
          on_signals: OnSignals | None = None) -> list[Signals]:
    texts = asked_of(rubric)
    signals = judge.judge(request_for(rubric, prepared), on_signals)
    if len(signals) != len(texts):
        raise TutorError(f"judge returned {len(signals)} results for {len(texts)} claims")
    for s in signals:
        _check_signals(judge.name, s)
    return paired(rubric, [as_stored(s) for s in signals])


def _check_signals(judge_name: str, signals: Signals) -> None:
    """A probability outside [0, 1], NaN or infinite, from any backend, is the backend's
    failure (one line), never a grade nor a validation error further on."""
    p = signals.p_yes
    finite_state = signals.state is None or bool(np.isfinite(signals.state).all())
    if not (isinstance(p, float | int) and math.isfinite(p) and 0 <= p <= 1 and finite_state):
        raise TutorError(f"the judge {judge_name} gave a probability that is not one ({p!r})",
                         ExitCode.BACKEND)


def as_stored(signals: Signals) -> Signals:
    """Signals as a grade stores them: decided on exactly this, so re-scoring saved results
    (and a verdict streamed before the grade is done) reproduces the grade."""
    contrast = None if signals.contrast is None else as_stored(signals.contrast)
    return Signals(round(signals.p_yes, 4), signals.state, contrast)


def finish(rubric: Rubric, prepared: PreparedAnswer, signals: list[Signals] | None, head: Head,
           mode: str, model: str, with_doubt: bool = True) -> Grade:
    """The decide step: signals → verdicts → score, band and (unless a threshold search
    only needs bands) doubt."""
    verdicts = _numeric_verdicts(rubric, prepared)
    verdicts += _unjudged_verdicts(rubric) if signals is None else _judged_verdicts(
        rubric, prepared, signals, head)
    notices = prepared.notices + (["Nothing to grade: the answer has no claims."]
                                  if prepared.contentless else [])
    term_list = prepared.keyword_list
    if term_list:
        notices.append(TERM_LIST_NOTICE)
    score = compute_score(rubric, {v.point_id: v.outcome for v in verdicts}, term_list=term_list)
    sure = (doubt(rubric, verdicts, term_list, head.review_below, head.band_map) if with_doubt
            else Doubt(None, False, []))
    return Grade(question_id=rubric.id, score=score, band=rubric.band_of(score), verdicts=verdicts,
                 notices=notices, pointer=rubric.pointer, model=model, mode=mode,
                 rubric_version=rubric.version, head=head.name if signals is not None else "",
                 band_probability=sure.band_probability, review=sure.review, uncertain=sure.uncertain)


def numeric_outcomes(checks: list[NumericCheck], prepared: PreparedAnswer) -> list[NumericOutcome]:
    """The checks against the asserted text, where an amount can pass; but an amount in a
    sentence left open ("It's 140 GB. Or perhaps it is 280 GB.") is still an alternative."""
    asserted = outcomes_of(checks, prepared.text)
    if not prepared.unasserted:
        return asserted
    whole = outcomes_of(checks, "\n".join([*prepared.sentences, *prepared.unasserted]))
    return [w if a.passed and not w.passed else a for a, w in zip(asserted, whole, strict=True)]


def _numeric_verdicts(rubric: Rubric, prepared: PreparedAnswer) -> list[Verdict]:
    verdicts = []
    for check, outcome in zip(rubric.numeric, numeric_outcomes(rubric.numeric, prepared), strict=True):
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


def _judged_verdicts(rubric: Rubric, prepared: PreparedAnswer, signals: list[Signals],
                     head: Head) -> list[Verdict]:
    kinds, _ = claims_of(rubric)
    return [_judged_verdict(rubric, prepared, i, kind, s, head)
            for i, (kind, s) in enumerate(zip(kinds, signals, strict=True))]


def _judged_verdict(rubric: Rubric, prepared: PreparedAnswer, index: int, kind: JudgedKind,
                    signals: Signals, head: Head) -> Verdict:
    """One claim's verdict from its own signals alone (so a streamed verdict is the final one)."""
    point = judged_points(rubric)[index]
    p = head.probabilities([kind], [signals])[0]
    stated = p >= stated_from(rubric, kind, head)
    return Verdict(point_id=point.id, kind=kind, claim=point.claim, confidence=round(p, 3),
                   outcome=judged_outcome(kind, stated), pointer=rubric.pointer,
                   detail=point.correction if isinstance(point, Misconception) else None,
                   evidence=best_quote(point.claim, prepared.sentences) if stated else None,
                   p_yes=signals.p_yes, state=encode_state(signals.state),
                   contrast_p_yes=None if signals.contrast is None else signals.contrast.p_yes,
                   contrast_state=None if signals.contrast is None else encode_state(signals.contrast.state))


def stored_signals(verdict: Verdict) -> Signals:
    """The probe step's signals as a verdict keeps them (for re-scoring and training)."""
    contrast = None if verdict.contrast_p_yes is None else Signals(
        verdict.contrast_p_yes, decode_state(verdict.contrast_state))
    return Signals(verdict.p_yes or 0.0, decode_state(verdict.state), contrast)


def encode_state(state: np.ndarray | None) -> str | None:
    if state is None:
        return None
    return base64.b64encode(np.asarray(state, dtype="<f2").tobytes()).decode("ascii")


def decode_state(text: str | None) -> np.ndarray | None:
    return None if text is None else _decoded(text)


@functools.lru_cache(maxsize=16384)
def _decoded(text: str) -> np.ndarray:
    """Re-deciding a saved run many times (threshold searches, held-out reports) decodes each
    state once; the array is shared, so it is read-only."""
    state = np.frombuffer(base64.b64decode(text), dtype="<f2").astype(np.float64)
    state.setflags(write=False)
    return state
