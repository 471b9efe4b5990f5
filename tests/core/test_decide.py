"""The decide step on its own: heads, thresholds, doubt, and re-scoring saved signals."""

import logging
from dataclasses import replace

import numpy as np
import pytest

from tutor.core.decide import BandMap, PlainHead, ProbeHead, Thresholds, doubt, head_for, load_head
from tutor.core.errors import TutorError
from tutor.core.grader import decode_state, encode_state, grade, rescore
from tutor.core.judge_prompts import prompts_hash
from tutor.core.judges.base import JudgeRequest
from tutor.core.judges.fake import FakeJudge
from tutor.core.result import Band
from tutor.core.signals import Provenance, Signals
from tutor.teacher.calibration import Points, fit


class StateJudge(FakeJudge):
    """A fake judge that also returns a hidden state: a direction that encodes `stated`."""

    def __init__(self, stated: dict[str, bool]):
        super().__init__()
        self.stated = stated

    def judge(self, request: JudgeRequest, on_signals=None) -> list[Signals]:
        out = []
        for claim in request.claims:
            sign = 1.0 if self.stated.get(claim) else -1.0
            out.append(Signals(0.5, (sign, 0.25 * sign, 0.0)))  # P(yes) says nothing
        return out


def trained_head(rng_seed: int = 0) -> ProbeHead:
    rng = np.random.default_rng(rng_seed)
    labels = rng.random(200) < 0.4
    signals = [Signals(float(rng.uniform(0.3, 0.7)),
                       ((1.0 if y else -1.0) + float(rng.normal(0, 0.3)), float(rng.normal()), 0.0))
               for y in labels]
    kinds = ["key_point" if i % 3 else "misconception" for i in range(200)]
    return fit(Points(kinds, signals, labels, ["q"] * 200), c=1.0, use_state=True,
               meta={"name": "test-head", "model_sha256": "abc", "prompts": prompts_hash(),
                     "layer": "l_out-20"})


def test_a_trained_head_reads_the_state_not_just_p_yes():
    head = trained_head()
    stated, unstated = Signals(0.5, (1.0, 0.0, 0.0)), Signals(0.5, (-1.0, 0.0, 0.0))
    p = head.probabilities(["key_point", "key_point"], [stated, unstated])
    assert p[0] > 0.9 and p[1] < 0.1


def test_head_file_round_trips_exactly(tmp_path):
    head = trained_head()
    head.save(tmp_path / "h.npz")
    again = ProbeHead.load(tmp_path / "h.npz")
    signals = [Signals(0.6, (0.3, -0.2, 0.1)), Signals(0.2, (-0.7, 0.4, 0.0))]
    kinds = ["key_point", "misconception"]
    assert again.probabilities(kinds, signals) == head.probabilities(kinds, signals)
    assert again.meta["name"] == "test-head" and again.thresholds == head.thresholds


def test_a_head_keeps_its_band_map_and_one_saved_before_maps_reads_the_raw_figure(tmp_path):
    mapped = replace(trained_head(), band_map=BandMap((0.0, 0.5, 1.0), (0.4, 0.6, 0.85)))
    mapped.save(tmp_path / "h.npz")
    assert ProbeHead.load(tmp_path / "h.npz").band_map == mapped.band_map
    trained_head().save(tmp_path / "old.npz")
    assert ProbeHead.load(tmp_path / "old.npz").band_map(0.08) == 0.08


def test_a_head_for_another_model_or_prompt_falls_back_to_p_yes(tmp_path, caplog):
    path = tmp_path / "h.npz"
    trained_head().save(path)
    assert head_for(str(path), Provenance("abc", "l_out-20")).name == "test-head"
    with caplog.at_level(logging.WARNING, logger="tutor.judge"):
        assert isinstance(head_for(str(path), Provenance("another-model", "l_out-20")), PlainHead)
        assert isinstance(head_for(str(path), Provenance("abc", "l_out-24")), PlainHead)
    assert "fitted on another model" in caplog.text


def test_a_backend_without_provenance_is_decided_by_plain_p_yes_without_a_notice(tmp_path, caplog):
    path = tmp_path / "h.npz"
    trained_head().save(path)
    with caplog.at_level(logging.WARNING, logger="tutor.judge"):
        assert isinstance(head_for(str(path), None), PlainHead)
        assert isinstance(head_for(None, None), PlainHead)
    assert caplog.text == ""


def test_a_file_that_is_not_a_head_is_one_clear_error(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_text("nope")
    with pytest.raises(TutorError, match="not a head file"):
        load_head(str(bad))


def test_state_survives_storage_so_rescoring_equals_grading(bank, tmp_path):
    rubric = bank.get("w06-thu-4")
    first = rubric.key_points[0].asked
    judge = StateJudge({first: True})
    head = trained_head()
    graded = grade(rubric, "MQA shares one key/value head across all query heads.", judge, head)
    assert graded.head == "test-head" and graded.verdicts[0].state is not None
    again = rescore(rubric, "MQA shares one key/value head across all query heads.", graded, head)
    assert again == graded
    state = (0.123, -4.5, 1e-3)
    assert decode_state(encode_state(state)).tolist() == [float(np.float16(x)) for x in state]


def test_an_answer_with_nothing_left_to_judge_rescores_as_grading_decides_it(bank):
    """Saved signals of a sentence that the preparation rules now set aside (a question without
    its mark) are not applied to it: re-scoring equals grading the answer today."""
    rubric = bank.get("w06-thu-4")
    asked = "Does MQA share one key/value head across all the query heads."
    saved = grade(rubric, "MQA shares one key/value head across all query heads.", FakeJudge(default=0.99))
    again = rescore(rubric, asked, saved, PlainHead())
    assert again == grade(rubric, asked, FakeJudge(default=0.99), PlainHead())
    assert again.score == 0 and again.mode == "none" and again.band == Band.FAIL


def _verdicts(bank, probability: float):
    rubric = bank.get("w06-thu-4")
    judge = FakeJudge(default=probability)
    return rubric, grade(rubric, "GQA shares key/value heads within groups of query heads.", judge)


def test_confident_verdicts_give_a_sure_band(bank):
    rubric, result = _verdicts(bank, 0.99)
    sure = doubt(rubric, result.verdicts, term_list=False, review_below=0.6)
    assert sure.band_probability == 1.0 and not sure.review and sure.uncertain == []


def test_verdicts_near_the_threshold_send_the_grade_to_review(bank):
    rubric, result = _verdicts(bank, 0.66)  # every point just above the 0.65 threshold
    assert result.review and result.band_probability < 0.6
    assert result.uncertain and set(result.uncertain) <= {v.point_id for v in result.verdicts}


def test_the_band_probability_shown_and_the_review_go_through_the_heads_band_map(bank):
    """Issue 26: "score 0.94 · full" beside "about 8% sure" contradicted itself; the raw figure
    treats points as independent and runs low. The head's map says how often such a band was right;
    the review flag is decided on the figure shown, never on another."""
    rubric, _ = _verdicts(bank, 0.66)
    raw = PlainHead()
    lifted = replace(raw, band_map=BandMap((0.0, 1.0), (0.6, 0.9)))
    answer = "GQA shares key/value heads within groups of query heads."
    before, after = (grade(rubric, answer, FakeJudge(default=0.66), head=h) for h in (raw, lifted))
    assert (after.score, after.band) == (before.score, before.band)  # the grade itself is the same
    assert after.band_probability == round(0.6 + 0.3 * before.band_probability, 3)
    assert before.review and not after.review  # 0.6 + … is not below the head's cut-off of 0.6


def test_band_probability_is_a_probability_of_the_decided_band(bank):
    rubric = bank.get("w06-thu-4")
    for p in (0.05, 0.4, 0.7, 0.95):
        result = grade(rubric, "Some words about attention heads and caches.", FakeJudge(default=p))
        assert 0.0 <= result.band_probability <= 1.0
        assert result.band == Band.of(result.score)


def test_plain_head_thresholds_decide_per_kind():
    head = PlainHead(Thresholds(key_point=0.3, misconception=0.9))
    assert head.thresholds.of("key_point") == 0.3 and head.thresholds.of("misconception") == 0.9
    assert head.probabilities(["key_point"], [Signals(0.42)]) == [0.42]


def contrast_head(contrast: str) -> ProbeHead:
    """A head fitted where a misconception is stated exactly when its own probe outscores its
    correction's: P(yes) of either alone says nothing (both spread over the same range)."""
    rng = np.random.default_rng(1)
    kinds, signals, labels = [], [], []
    for _ in range(300):
        own, correction = (float(x) for x in rng.uniform(0.05, 0.95, 2))
        kinds.append("misconception")
        signals.append(Signals(own, (0.0, 0.0, 1.0), Signals(correction, (0.0, 0.0, -1.0))))
        labels.append(own > correction)
    return fit(Points(kinds, signals, np.asarray(labels), ["q"] * 300), c=1.0, use_state=True,
               meta={"name": "contrast-head"}, contrast=contrast)


@pytest.mark.parametrize("contrast", ["p", "state"])
def test_a_contrast_head_decides_a_misconception_against_its_correction(contrast, tmp_path):
    head = contrast_head(contrast)
    head.save(tmp_path / "h.npz")
    head = ProbeHead.load(tmp_path / "h.npz")
    same_words = [Signals(0.8, (0.0, 0.0, 1.0), Signals(0.95, (0.0, 0.0, -1.0))),  # "memory-, not compute-"
                  Signals(0.8, (0.0, 0.0, 1.0), Signals(0.1, (0.0, 0.0, -1.0)))]  # "compute-bound"
    p = head.probabilities(["misconception", "misconception"], same_words)
    assert head.contrast == contrast and p[0] < 0.3 < 0.7 < p[1]


def test_a_contrast_head_asked_of_signals_without_corrections_is_refused():
    with pytest.raises(ValueError, match="correction"):
        contrast_head("p").probabilities(["misconception"], [Signals(0.8, (0.0, 0.0, 1.0))])
    key_point = contrast_head("state").probabilities(["key_point"], [Signals(0.8, (0.0, 0.0, 1.0))])
    assert 0 <= key_point[0] <= 1  # a key point has no correction, and needs none


def test_a_head_file_with_an_unknown_contrast_is_one_clear_error(tmp_path):
    head = contrast_head("p")
    head.contrast = "both"
    head.save(tmp_path / "h.npz")
    with pytest.raises(TutorError, match="not a head file"):
        load_head(str(tmp_path / "h.npz"))


class CorrectionJudge(FakeJudge):
    """Says each claim's P(yes) from a table, and streams the corrections before the points."""

    def judge(self, request: JudgeRequest, on_signals=None) -> list[Signals]:
        out = [Signals(self.answers.get(c, 0.1), (0.0, 0.0, 1.0 if c in self.answers else -1.0))
               for c in request.claims]
        for i in reversed(range(len(out))):
            if on_signals:
                on_signals(i, out[i])
        return out


def test_each_misconception_keeps_its_correction_and_streams_once_both_are_heard(bank):
    rubric = bank.get("w06-thu-4")
    wrong = rubric.misconceptions[0]
    judge = CorrectionJudge({wrong.claim: 0.8, wrong.correction: 0.95})
    head = contrast_head("p")
    streamed = []
    graded = grade(rubric, "GQA shares key/value heads, not query heads.", judge, head, streamed.append)
    verdict = graded.by_kind("misconception")[0]
    assert (verdict.p_yes, verdict.contrast_p_yes) == (0.8, 0.95) and verdict.outcome.value == "clear"
    judged = [v for v in graded.verdicts if v.kind != "numeric"]
    assert [v for v in streamed if v.kind != "numeric"] == judged[::-1]  # each once, as final
    assert all(v.contrast_p_yes is None for v in graded.by_kind("key_point"))
    again = rescore(rubric, "GQA shares key/value heads, not query heads.", graded, head)
    assert again == graded
