"""Issue 27, item 3: a model file damaged in place (same size and time, so the `.verified`
stamp passes it) gives NaN or infinite numbers. That is one line saying to run `tutor model
verify` (exit 3), never a validation error, and it stops a batch instead of failing every row.
No llama.cpp here: the judge's reading of logits and hidden states runs on arrays we fill."""

import ctypes
import math

import numpy as np
import pytest

from tests.edge.test_cli import assert_one_line_error, tutor
from tutor.core.errors import ExitCode, TutorError
from tutor.core.grader import grade
from tutor.core.judges.fake import FakeJudge
from tutor.core.judges.llama_runtime import LlamaRuntime
from tutor.core.signals import Signals

ANSWER = "GQA shares each K/V head across a group of query heads."


class Logits:
    """llama.cpp's context as `_p_yes` reads it: a pointer to one row of float logits."""

    def __init__(self, values: list[float]):
        self.row = (ctypes.c_float * len(values))(*values)

    def get_logits_ith(self, index: int):
        return ctypes.cast(self.row, ctypes.POINTER(ctypes.c_float))


class FakeLlm:
    def __init__(self, values: list[float]):
        self._ctx = Logits(values)
        self.size = len(values)

    def n_vocab(self) -> int:
        return self.size


def local_runtime(values: list[float]) -> LlamaRuntime:
    judge = LlamaRuntime.__new__(LlamaRuntime)  # no model file: only the reading of its numbers
    judge.llm, judge.name = FakeLlm(values), "qwen-damaged"  # type: ignore[assignment]
    judge.yes_ids, judge.no_ids = [0], [1]
    return judge


def test_finite_logits_give_p_yes():
    assert local_runtime([2.0, 0.0, -1.0])._p_yes() == pytest.approx(1 / (1 + math.exp(-2)))


@pytest.mark.parametrize("values", [
    [math.nan, 0.0, 1.0], [0.0, math.nan, 1.0], [0.0, 0.0, math.nan],  # yes, no, another token
    [math.inf, 0.0, 0.0], [-math.inf] * 3, [math.inf, -math.inf, 0.0],
])
def test_non_finite_logits_say_run_model_verify(values):
    with pytest.raises(TutorError) as caught:
        local_runtime(values)._p_yes()
    assert caught.value.exit_code == ExitCode.MODEL
    assert "tutor model verify" in caught.value.message and "\n" not in caught.value.message


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_non_finite_hidden_state_says_run_model_verify(bad):
    state = np.array([0.5, bad, 1.0])
    with pytest.raises(TutorError, match="tutor model verify") as caught:
        local_runtime([2.0, 0.0, -1.0])._signals(-1, state)
    assert caught.value.exit_code == ExitCode.MODEL


class Damaged(FakeJudge):
    """A backend whose model turns out damaged on its first probe."""

    def judge(self, request, on_signals=None):
        raise TutorError("the model qwen gave a probability that is not a finite number: its file "
                         "may be damaged; run `tutor model verify`", ExitCode.MODEL)


def test_a_damaged_model_stops_grading_instead_of_ungrading_the_answer(bank):
    with pytest.raises(TutorError) as caught:
        grade(bank.get("w06-thu-4"), ANSWER, Damaged())
    assert caught.value.exit_code == ExitCode.MODEL


@pytest.mark.parametrize("p_yes", [math.nan, math.inf, -math.inf, 1.5, -0.1])
def test_any_backend_s_impossible_probability_is_ungraded_with_one_line(bank, p_yes):
    """The class: whatever backend gives P(yes) outside [0, 1], the grade says so (no
    validation error of `confidence` further on), also when verdicts are streamed."""
    for on_verdict in (None, lambda verdict: None):
        result = grade(bank.get("w06-thu-4"), ANSWER, FakeJudge(default=p_yes), on_verdict=on_verdict)
        assert result.status == "ungraded" and "not one" in result.reason and "\n" not in result.reason


def test_a_nan_hidden_state_from_any_backend_is_ungraded(bank):
    class WithState(FakeJudge):
        def judge(self, request, on_signals=None):
            return [Signals(0.5, np.array([math.nan])) for _ in request.claims]

    assert grade(bank.get("w06-thu-4"), ANSWER, WithState()).status == "ungraded"


@pytest.fixture
def damaged_backend(monkeypatch):
    """The CLI's fake backend, damaged: what `--backend local` does with such a file."""
    monkeypatch.setattr(FakeJudge, "from_settings", classmethod(lambda cls, settings: Damaged()))


def test_grade_answer_with_a_damaged_model_is_one_line_exit_3(damaged_backend):
    result = tutor("--backend", "fake", "grade-answer", "--question", "w06-thu-4", "--answer-file", "-",
                   stdin=ANSWER)
    assert_one_line_error(result, ExitCode.MODEL, "tutor model verify")


def test_ask_with_a_damaged_model_is_one_line_exit_3(damaged_backend):
    result = tutor("--backend", "fake", "ask", "w06-thu-4", stdin=f"{ANSWER}\n.\n")
    assert result.returncode == ExitCode.MODEL, result.stderr
    assert "tutor model verify" in result.stderr and "Traceback" not in result.stderr + result.stdout


def test_a_batch_with_a_damaged_model_stops_with_one_line_exit_3(damaged_backend, tmp_path):
    csv = tmp_path / "class.csv"
    csv.write_text("student,question,answer\n" + "".join(f"s{i},w06-thu-4,{ANSWER}\n" for i in range(4)))
    result = tutor("--backend", "fake", "grade", str(csv), "--out", str(tmp_path / "marks"))
    assert_one_line_error(result, ExitCode.MODEL, "tutor model verify")


# Red team R10: a yes or no logit of -inf is damage, and far-below-the-top logits (-200) are
# compared in log space: never the silent P = 0 that an underflowing exp gave.
@pytest.mark.parametrize("values", [[-math.inf, -math.inf, 0.0], [-math.inf, 0.0, 0.0], [0.0, -math.inf, 0.0],
                                    [-math.inf, -math.inf, -math.inf]])
def test_an_infinitely_unlikely_yes_or_no_says_run_model_verify(values):
    with pytest.raises(TutorError) as caught:
        local_runtime(values)._p_yes()
    assert caught.value.exit_code == ExitCode.MODEL and "tutor model verify" in caught.value.message


@pytest.mark.parametrize("values, p_yes", [
    ([-200.0, -200.0, 0.0], 0.5),
    ([-200.0, -210.0, 0.0], 1 / (1 + math.exp(-10))),
    ([-3e38, -3e38, 3e38], 0.5),  # float32's extremes
    ([-1000.0, 0.0, 5.0], math.exp(-1000)),  # a true near-0, computed, not an underflow
])
def test_yes_and_no_far_below_the_top_token_are_compared_not_zeroed(values, p_yes):
    assert local_runtime(values)._p_yes() == pytest.approx(p_yes, rel=1e-6, abs=1e-300)
