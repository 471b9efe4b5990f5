"""Every bundled rubric's own reference answer, graded by the real default model as typed and
with its punctuation flattened (a transcript's), lands in the top band. Runs in CI.

Until the judge work makes it hold, the test records which reference answers fall short and is
an expected failure (not strict), so it runs, lists them and passes the day they are all full.
Which answers fall short may differ between CPUs (probabilities near a threshold), so the test
never names them in an assertion: it asserts what holds everywhere and lists the rest."""

import pytest

from tutor.core import model_store
from tutor.core.grader import grade
from tutor.core.judges.local import LocalJudge
from tutor.core.judges.registry import ReliableJudge
from tutor.core.result import Band
from tutor.teacher.invariance import unpunctuated

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def judge():
    return ReliableJudge(LocalJudge.load(model_store.resolve(None)))


def short_of_full(bank, judge, written) -> list[str]:
    """'id (band score)' for each rubric whose reference answer, written so, is not full."""
    found = []
    for rubric in bank.rubrics:
        result = grade(rubric, written(rubric.reference_answer), judge)
        assert result.status == "graded", (rubric.id, result.reason)
        assert result.band != Band.FAIL, (rubric.id, result.score)  # a reference answer never fails
        if result.band != Band.FULL:
            found.append(f"{rubric.id} ({result.band} {result.score:.2f})")
    return found


@pytest.mark.parametrize("written", [str, unpunctuated], ids=["typed", "unpunctuated"])
def test_every_reference_answer_is_graded_full(bank, judge, written):
    found = short_of_full(bank, judge, written)
    if found:
        pytest.xfail(f"{len(found)} of {len(bank.rubrics)} reference answers not full: {', '.join(found)}")
