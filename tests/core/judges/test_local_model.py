"""The local judge's passes through the real default model: work done ahead of Enter, all
probes of an answer decoded together, answers graded in a row, verdicts streamed."""

import threading
import time

import pytest

from evals.bench_runtime import BenchRuntime
from tutor.core import model_store
from tutor.core.answer import prepare
from tutor.core.grader import grade, prefill, request_for
from tutor.core.judges.base import JudgeRequest
from tutor.core.judges.local import LocalJudge
from tutor.core.result import Verdict
from tutor.core.signals import Signals

pytestmark = pytest.mark.model

LINES = ["MQA keeps all the query heads but gives them one shared key/value head.",
         "GQA splits the query heads into groups, and each group shares one key/value head.",
         "Fewer KV heads make the KV cache smaller per token, so 64 to 8 heads is 8x less memory."]


@pytest.fixture(scope="module", params=["default", "passes"])
def judge(request):
    """The default judge, and the options that change the arithmetic (line segments, probes
    decoded together): each must keep every promise below."""
    passes = request.param == "passes"
    runtime = BenchRuntime(model_store.resolve(None), streams=8 if passes else 1, line_segments=passes)
    judge = LocalJudge(runtime)
    judge.warm()
    return judge


def exactly(signals: list[Signals]) -> list[tuple[float, bytes | None]]:
    return [(s.p_yes, None if s.state is None else s.state.tobytes()) for s in signals]


def typed(judge, rubric, lines: list[str]) -> None:
    """What a session does while the learner reads the question and types these lines."""
    prefill(rubric, "", judge)
    for count in range(1, len(lines) + 1):
        prefill(rubric, "\n".join(lines[:count]), judge)


def evaluated(judge, call) -> tuple[list[tuple[float, bytes | None]], int]:
    before = judge.runtime.tokens_evaluated
    return exactly(call()), judge.runtime.tokens_evaluated - before


def test_work_done_while_typing_gives_exactly_the_grade_of_the_whole_answer(bank, judge):
    rubric = bank.get("w06-thu-4")
    request = request_for(rubric, prepare("\n".join(LINES)))
    judge.forget()
    at_once, full = evaluated(judge, lambda: judge.judge(request))
    judge.forget()
    typed(judge, rubric, LINES)  # Enter after the last line, then '.' once the work is done
    ready, after_enter = evaluated(judge, lambda: judge.judge(request))
    assert ready == at_once and after_enter == 0
    judge.forget()
    typed(judge, rubric, LINES[:-1])  # '.' straight after the last line: it is left to do
    rest, after_enter = evaluated(judge, lambda: judge.judge(request))
    assert rest == at_once and 0 < after_enter < full


def test_work_ahead_on_other_text_stops_and_changes_nothing(bank, judge):
    rubric = bank.get("w06-thu-4")
    final = request_for(rubric, prepare("\n".join(LINES)))
    judge.forget()
    expected = exactly(judge.judge(final))
    judge.forget()
    ahead = threading.Thread(target=prefill, args=(rubric, LINES[0], judge))
    ahead.start()
    time.sleep(0.5)  # the grade of the first line alone is under way
    assert exactly(judge.judge(final)) == expected
    ahead.join()


def test_identical_probes_in_one_pass_agree_exactly(bank, judge):
    request = request_for(bank.get("w06-thu-4"), prepare(" ".join(LINES)))
    same = JudgeRequest(request.question, request.answer, (request.claims[0],) * 3)
    signals = exactly(judge.judge(same))
    assert signals[0] == signals[1] == signals[2]


def test_a_class_graded_in_a_row_gets_the_grades_of_each_answer_alone(bank, judge):
    rubric = bank.get("w06-thu-4")
    answers = [" ".join(LINES), LINES[1], "MQA shares one KV head. GQA shares one per group."]
    in_a_row = [exactly(judge.judge(request_for(rubric, prepare(a)))) for a in answers]
    alone = []
    for answer in answers:
        judge.forget()
        alone.append(exactly(judge.judge(request_for(rubric, prepare(answer)))))
    assert in_a_row == alone


def test_verdicts_stream_numeric_checks_first_and_are_the_final_ones(bank, judge):
    rubric = bank.get("w06-thu-2")  # a numeric check and judged points
    heard: list[Verdict] = []
    result = grade(rubric, "About 2.7 GB per 8K request. GQA cuts the cache 8x.", judge,
                   on_verdict=heard.append)
    numeric = [v for v in result.verdicts if v.kind == "numeric"]
    assert numeric and heard[: len(numeric)] == numeric
    assert sorted(heard[len(numeric):], key=result.verdicts.index) == result.verdicts[len(numeric):]
