"""What the judge reads, through the real default model (issue 26). Runs in CI.

No assertion here depends on a probability landing on one side of a threshold: the judge form
is checked as identical signals, and the contrast as an ordering with a wide margin."""

import pytest

from tutor.core import model_store
from tutor.core.grader import grade
from tutor.core.judges.local import LocalJudge
from tutor.core.result import Verdict

pytestmark = pytest.mark.model

TYPED = ("Prefill runs the whole prompt in parallel and is compute-bound.\n"
         "Decode makes one token per step; it reads every weight for little arithmetic, so it is "
         "memory-bandwidth-bound. Not compute-bound!")
FORMS = [TYPED.replace(". ", ", ").replace("\n", " "), TYPED.lower(),
         TYPED.replace(";", ".").replace("!", ".").upper()]


@pytest.fixture(scope="module")
def local():
    return LocalJudge.load(model_store.resolve(None))


def signals(verdicts: list[Verdict]) -> list[tuple[float | None, str | None, float | None]]:
    return [(v.p_yes, v.state, v.contrast_p_yes) for v in verdicts if v.kind != "numeric"]


def test_an_answer_written_four_ways_gets_the_same_signals_and_grade(bank, local):
    rubric = bank.get("w06-thu-6")
    typed = grade(rubric, TYPED, local)
    for written in FORMS:
        again = grade(rubric, written, local)
        assert signals(again.verdicts) == signals(typed.verdicts), written
        assert (again.score, again.band) == (typed.score, typed.band), written


def test_a_misconception_is_judged_against_its_correction(bank, local):
    rubric = bank.get("w06-thu-6")
    wrong = next(m for m in rubric.misconceptions if m.claim == "Decode is compute-bound.")
    said = {text: next(v for v in grade(rubric, text, local).verdicts if v.point_id == wrong.id)
            for text in (TYPED, "Decode is compute-bound: each step is limited by arithmetic, "
                                "like prefill.")}
    denied, stated = said.values()
    assert denied.contrast_p_yes is not None and stated.contrast_p_yes is not None
    # the words "compute-bound" are in both; the correction's probe tells them apart
    assert denied.contrast_p_yes - denied.p_yes > stated.contrast_p_yes - stated.p_yes + 0.2
