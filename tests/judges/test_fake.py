from tutor.judges.base import JudgeRequest
from tutor.judges.fake import FakeJudge


def test_queue_replays_in_order_then_falls_back_to_answers():
    judge = FakeJudge({"c": 0.7}, default=0.2).enqueue(0.9)
    request = JudgeRequest("q", "a", ("a claim", "c", "other"))
    assert [s.p_yes for s in judge.judge(request)] == [0.9, 0.7, 0.2]
    assert judge.requests == [request] and len(judge.prompts) == 3
