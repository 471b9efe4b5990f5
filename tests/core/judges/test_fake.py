from tutor.core.judges.base import JudgeRequest
from tutor.core.judges.fake import FakeJudge


def test_queue_replays_in_order_then_falls_back_to_answers():
    judge = FakeJudge({"c": 0.7}, default=0.2).enqueue(0.9)
    request = JudgeRequest("q", "a", ("a claim", "c", "other"))
    assert [s.p_yes for s in judge.judge(request)] == [0.9, 0.7, 0.2]
    assert judge.requests == [request] and len(judge.prompts) == 3


def test_the_cli_fake_keeps_no_log_so_a_large_class_stays_small():
    from tutor.core.settings import load_settings

    settings, _ = load_settings({"backend": "fake"})
    judge = FakeJudge.from_settings(settings)
    judge.judge(JudgeRequest("q", "an answer", ("c1", "c2")))
    assert judge.requests == [] and judge.prompts == []
    recording = FakeJudge()
    recording.judge(JudgeRequest("q", "an answer", ("c1", "c2")))
    assert len(recording.requests) == 1 and len(recording.prompts) == 2
