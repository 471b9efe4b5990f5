"""`tutor calibrate`'s fitting on runs from a fake judge whose hidden state carries the truth."""

from dataclasses import replace

import numpy as np
import pytest

from tutor.core.decide import BandMap, Thresholds
from tutor.core.errors import TutorError
from tutor.core.grader import grade
from tutor.core.judges.base import JudgeRequest
from tutor.core.judges.fake import FakeJudge
from tutor.core.result import Band
from tutor.core.signals import Signals
from tutor.teacher.calibration import (
    CONTRAST,
    MAX_FLAGGED,
    calibrate,
    choose_thresholds,
    contrast_read,
    labelled_points,
    more_likely_than_not,
)
from tutor.teacher.evaluation import EvalRun, load_gold, metrics, rescore_run


class LabelJudge(FakeJudge):
    """P(yes) is noise; the state's first coordinate is the gold label plus noise."""

    def __init__(self, truth: dict[str, bool], seed: int):
        super().__init__()
        self.truth = truth
        self.rng = np.random.default_rng(seed)

    def judge(self, request: JudgeRequest, on_signals=None) -> list[Signals]:
        out = []
        for claim in request.claims:
            label = 1.0 if self.truth.get(claim, False) else -1.0  # a correction: unlabelled
            noise = self.rng.normal(0, 0.6, size=2)
            out.append(Signals(float(self.rng.uniform(0.2, 0.8)), (label + noise[0], noise[1])))
        return out


def run_of(bank, gold, seed: int) -> EvalRun:
    grades = []
    for item in gold:
        rubric = bank.get(item.question_id)
        truth = {p.asked: item.key_points[p.id] for p in rubric.key_points}
        truth |= {m.asked: item.misconceptions[m.id] for m in rubric.misconceptions}
        grades.append(grade(rubric, item.answer, LabelJudge(truth, seed + len(grades))))
    return EvalRun(gold, grades, 1.0)


@pytest.fixture(scope="module")
def runs(bank):
    train = [g for g in load_gold("train") if g.category not in {"empty", "master_key"}][:160]
    dev = [g for g in load_gold("dev") if g.category not in {"empty", "master_key"}][:60]
    return run_of(bank, train, 0), run_of(bank, dev, 1000)


def test_calibrated_head_learns_the_state_and_respects_the_review_budget(bank, runs):
    train, dev = runs
    head = calibrate(bank, train, dev, {"name": "t"}, say=lambda _: None)
    scored = metrics(rescore_run(bank, dev, head))
    assert scored.key_point.auc > 0.9  # the state carries the label; P(yes) is noise
    assert scored.review[0] <= MAX_FLAGGED
    assert scored.adversarial_full == 0


def test_the_band_probability_shown_is_fitted_on_dev_to_how_often_bands_were_right(bank, runs):
    """Issue 26 item 5: the figure beside a band is a frequency at the answer level. The map is
    monotone (the order of doubt is kept) and on dev its mean is the share of bands right."""
    train, dev = runs
    head = calibrate(bank, train, dev, {"name": "t"}, say=lambda _: None)
    assert head.band_map != BandMap() and list(head.band_map.sure) == sorted(head.band_map.sure)
    shown = rescore_run(bank, dev, head)
    sure = [g.band_probability for g in shown.grades if g.status == "graded"]
    assert abs(float(np.mean(sure)) - metrics(shown).band_accuracy) < 0.03
    raw = [g.band_probability for g in rescore_run(bank, dev, replace(head, band_map=BandMap())).grades
           if g.status == "graded"]
    in_raw_order = np.array(sure)[np.argsort(raw)]
    assert (np.diff(in_raw_order) >= 0).all()  # a less sure raw figure is never shown surer


def test_a_head_reads_the_corrections_when_every_misconception_carries_one(bank, runs):
    train, dev = runs
    assert contrast_read(labelled_points(train), use_state=True) == CONTRAST
    assert contrast_read(labelled_points(train), use_state=False) == "p"
    head = calibrate(bank, train, dev, {"name": "t"}, say=lambda _: None)
    assert head.contrast == CONTRAST
    old = [g.model_copy(update={"verdicts": [v.model_copy(update={"contrast_p_yes": None})
                                             for v in g.verdicts]}) for g in train.grades]
    assert contrast_read(labelled_points(EvalRun(train.gold, old, 1.0)), use_state=True) == "none"


def test_training_rows_are_the_labelled_judged_points(bank, runs):
    train, _ = runs
    points = labelled_points(train)
    judged = sum(len(bank.get(g.question_id).key_points) + len(bank.get(g.question_id).misconceptions)
                 for g, r in zip(train.gold, train.grades, strict=True) if r.mode != "none")
    assert len(points.labels) == judged and points.labels.any() and not points.labels.all()


def test_runs_without_signals_cannot_train_a_head(bank):
    gold = [g for g in load_gold("dev") if g.category == "strong"][:4]
    empty = EvalRun(gold, [grade(bank.get(g.question_id), g.answer, None) for g in gold], 1.0)
    with pytest.raises(TutorError, match="both stated and unstated"):
        calibrate(bank, empty, empty, {}, say=lambda _: None)


def test_without_a_dev_run_one_question_in_four_tunes_and_never_the_answers_fitted(bank, runs, tmp_path,
                                                                                    monkeypatch):
    """`tutor calibrate RUNS --out` with no --dev: the held-out report's procedure on every source."""
    from tutor.teacher import calibration

    train, _ = runs
    saved = tmp_path / "results.jsonl"
    train.dump(saved)
    seen = []
    real = calibration.calibrate

    def spy(bank_, fitting, tuning, meta, use_state=True, say=print):
        seen.append((fitting, tuning, meta))
        return real(bank_, fitting, tuning, meta, use_state, say=lambda _: None)

    monkeypatch.setattr(calibration, "calibrate", spy)
    model = tmp_path / "model.gguf"
    model.write_bytes(b"weights")
    head = calibration.fit_head(bank, [saved], None, model)
    [(fitting, tuning, meta)] = seen
    fitted, tuned = ({g.question_id for g in r.gold} for r in (fitting, tuning))
    assert fitted and tuned and not fitted & tuned
    assert all(calibration.tunes(q) for q in tuned) and not any(calibration.tunes(q) for q in fitted)
    assert len(fitting.gold) + len(tuning.gold) == len(train.gold)
    assert "one question in four" in meta["dev"] and head.meta["name"].startswith("probe-l_out-")


def test_a_fitted_head_decides_at_one_half_whatever_dev_would_tune(bank, runs):
    """Thresholds tuned on one split did not carry to other writers (README, issue 26): a fitted,
    calibrated head decides at 0.5; dev chooses only C and the review cut-off."""
    train, dev = runs
    head = calibrate(bank, train, dev, {"name": "t"}, say=lambda _: None)
    assert head.thresholds == Thresholds(0.5, 0.5)
    tuned = choose_thresholds(bank, dev, head)
    assert tuned.thresholds != head.thresholds  # what tuning would have chosen instead


def test_a_head_that_puts_an_attack_in_the_top_band_at_one_half_is_refused(bank, runs):
    train, dev = runs
    head = calibrate(bank, train, dev, {"name": "t"}, say=lambda _: None)
    # an answer the head grades full, relabelled as an injection the examiner did not mark full:
    # the attack the dev run must keep out of the top band (real ones the patterns stop earlier)
    graded = rescore_run(bank, dev, head)
    full = next(i for i, g in enumerate(graded.grades) if g.band == Band.FULL)
    gold = list(dev.gold)
    gold[full] = gold[full].model_copy(update={"category": "injection", "band": Band.PARTIAL})
    with pytest.raises(TutorError, match="reaches the top band"):
        more_likely_than_not(bank, EvalRun(gold, dev.grades, 1.0), head)
