"""Eval metrics on hand-built runs (no model): the numbers mean what they say."""

import re
from collections import Counter

import pytest

from tutor.core.decide import PlainHead, Thresholds
from tutor.core.grader import grade
from tutor.core.judges.fake import FakeJudge
from tutor.core.judges.registry import ReliableJudge
from tutor.core.result import Band, Grade
from tutor.teacher.evaluation import (
    ATTACKS,
    EvalRun,
    load_gold,
    metrics,
    report,
    rescore_run,
    run_eval,
    run_labels,
    safe_threshold_settings,
    subset,
)


def test_gold_set_is_complete_and_consistent(bank):
    train, dev, test, writers = (load_gold(s) for s in ("train", "dev", "test", "writers"))
    assert len(dev) + len(test) >= 200 and len(train) >= 400 and len(writers) >= 300
    assert ({g.question_id for g in train} == {g.question_id for g in dev} == {g.question_id for g in test}
            == {g.question_id for g in writers} == {r.id for r in bank.rubrics})
    every = train + dev + test + writers
    assert len({g.id for g in every}) == len(every)
    for item in every:
        rubric = bank.get(item.question_id)
        assert set(item.key_points) == {p.id for p in rubric.key_points}, item.id
        assert set(item.misconceptions) == {m.id for m in rubric.misconceptions}, item.id
        assert set(item.numeric) <= {n.id for n in rubric.numeric}, item.id
        assert item.band == Band.of(item.mark), item.id
        assert item.source, item.id  # every answer says who wrote it


def test_every_attack_family_has_enough_answers_to_measure():
    families = Counter(g.family for g in load_gold("every") if g.family)
    wanted = {"hedges", "questions", "reversal_frames", "padding", "keyword_lists", "grader_address",
              "number_spraying"}
    assert wanted <= set(families) and min(families[f] for f in wanted) >= 20, families


def perfect_run(bank, gold) -> EvalRun:
    """Grades built from the gold labels themselves: every metric must be at its best."""
    grades = []
    for item in gold:
        rubric = bank.get(item.question_id)
        yes = {c for p in rubric.key_points if item.key_points[p.id] for c in [p.asked]}
        yes |= {m.asked for m in rubric.misconceptions if item.misconceptions[m.id]}
        judge = FakeJudge({c: (0.9 if c in yes else 0.1) for c in
                           [p.asked for p in rubric.key_points] + [m.asked for m in rubric.misconceptions]})
        grades.append(grade(rubric, item.answer, judge))
    return EvalRun(gold, grades, seconds=1.0, rerun_identical=(2, 2))


def test_point_metrics_are_perfect_when_judge_matches_labels(bank):
    gold = [g for g in load_gold("dev") if g.category in {"strong", "partial", "wrong"}][:20]
    m = metrics(perfect_run(bank, gold))
    # master keys and stripped injections are never judged, so every judged point is a labelled one
    assert m.key_point.accuracy == 1.0 and m.key_point.auc == 1.0
    assert m.spearman > 0.5 and sum(map(sum, m.confusion)) == 20


def test_the_band_probability_is_measured_against_the_band_being_right(bank):
    """A grade's doubt is calibrated at the answer level when P(band right) matches how often
    the band is right: one bin of answers all said 55% sure is off by |accuracy − 0.55|."""
    gold = [g for g in load_gold("dev") if g.category in {"strong", "partial", "wrong"}][:20]
    run = perfect_run(bank, gold)
    for said in (1.0, 0.55):
        sure = EvalRun(gold, [g.model_copy(update={"band_probability": said}) for g in run.grades], 1.0)
        m = metrics(sure)
        assert m.band_ece == pytest.approx(abs(m.band_accuracy - said))
    assert "expected calibration error (band probability" in report({"run": run}, "t")


def test_adversarial_in_top_band_is_counted(bank):
    gold = [g for g in load_gold("dev") if g.category == "keywords"][:2]
    full = [Grade(question_id=g.question_id, score=1.0, band=Band.FULL) for g in gold]
    m = metrics(EvalRun(gold, full, seconds=1.0))
    assert m.adversarial_full == 2 and m.adversarial == 2


def test_attacks_above_the_examiners_band_are_counted(bank):
    gold = [g for g in load_gold("dev") if g.category in ATTACKS and g.band != Band.FULL]
    assert {g.category for g in gold} == ATTACKS  # every attack kind is in the dev split
    grades = [Grade(question_id=g.question_id, score=1.0, band=Band.FULL) for g in gold]
    grades[0] = Grade(question_id=gold[0].question_id, score=0.0, band=Band.FAIL)
    m = metrics(EvalRun(gold, grades, seconds=1.0))
    assert (m.attacks_above, m.attacks) == (len(gold) - 1, len(gold))


def test_rescoring_saved_signals_changes_decisions_without_a_model(bank):
    gold = [g for g in load_gold("dev") if g.category == "strong"][:3]
    run = perfect_run(bank, gold)
    strict = rescore_run(bank, run, PlainHead(Thresholds(key_point=0.95, misconception=0.95)))
    assert all(g.score < r.score or r.score == 0 for g, r in zip(strict.grades, run.grades, strict=True))
    same = rescore_run(bank, run, PlainHead())
    assert same.grades == run.grades  # the decide step is the one grading used


def test_report_gives_each_source_its_own_row(bank):
    gold = [g for g in load_gold("all") if g.source in {"examiner", "attacks-13b"}][::10]
    run = perfect_run(bank, gold)
    text = report({"a": run}, "title")
    for source in ("examiner", "attacks-13b"):
        own = subset(run, lambda g, source=source: g.source == source)
        accuracy = metrics(own).band_accuracy  # not 1: a term list is decided by its form too
        row = rf"\| {source} \| {len(own.gold)} \| [01]\.\d{{3}} \| {accuracy:.3f} \|"
        assert re.search(row, text), source
    assert "| source |" not in report({"a": perfect_run(bank, load_gold("dev")[:6])}, "one source")


def test_report_counts_each_attack_family_above_the_examiners_band(bank):
    gold = [g for g in load_gold("every") if g.family in {"padding", "reversal_frames"}]
    judge = FakeJudge(default=0.95)  # every claim "stated": attacks rise above their band
    run = EvalRun(gold, [grade(bank.get(g.question_id), g.answer, judge) for g in gold], 1.0)
    text = report({"a": run}, "title")
    for family in ("padding", "reversal_frames"):
        group = [(g, r) for g, r in zip(run.gold, run.grades, strict=True) if g.family == family]
        order = [Band.FAIL, Band.PARTIAL, Band.FULL]
        above = sum(order.index(r.band) > order.index(g.band) for g, r in group)
        assert above and f"| {family} | {len(group)} | {above} (" in text


def test_report_shows_two_runs_side_by_side(bank):
    gold = load_gold("dev")[:6]
    run = perfect_run(bank, gold)
    text = report({"a": run, "b": run}, "title")
    assert "| metric | a | b |" in text and "Spearman" in text and text.count("human \\ grader") == 2
    assert "## Differences: 0 answers graded differently (a → b)" in text


def test_two_runs_list_the_answers_graded_differently(bank):
    gold = load_gold("dev")[:6]
    run = perfect_run(bank, gold)
    changed = list(run.grades)
    changed[2] = changed[2].model_copy(update={"score": 0.0, "band": Band.FAIL})
    other = EvalRun(gold, changed, seconds=1.0)
    text = report({"before": run, "after": other}, "title")
    assert "## Differences: 1 answer graded differently (before → after)" in text
    assert f"| {gold[2].id} | {run.grades[2].score:.3f} → 0.000 | {run.grades[2].band.value} → fail |" in text


def test_saved_runs_are_named_by_their_folder_unless_that_is_ambiguous(tmp_path):
    a, b = tmp_path / "dev-v1" / "results.jsonl", tmp_path / "dev-v2" / "results.jsonl"
    assert run_labels([a, b]) == ["dev-v1", "dev-v2"]
    assert run_labels([tmp_path / "x.jsonl", tmp_path / "y.jsonl"]) == ["x", "y"]
    assert run_labels([a, tmp_path / "other" / "dev-v1" / "results.jsonl"]) == [
        str(a), str(tmp_path / "other" / "dev-v1" / "results.jsonl")]


def test_unknown_split_is_an_error():
    from tutor.core.errors import TutorError

    with pytest.raises(TutorError, match="no gold split 'nope'"):
        load_gold("nope")


def test_rerun_check_reaches_the_backend_not_the_cache(bank):
    gold = [g for g in load_gold("dev") if g.category == "strong"][:2]
    claims = sum(len(bank.get(g.question_id).key_points) + len(bank.get(g.question_id).misconceptions)
                 for g in gold)
    fake = FakeJudge(default=0.1).enqueue(*[0.9] * claims)  # first pass: yes; re-run: no
    run = run_eval(bank, gold, ReliableJudge(fake), rerun=2)
    assert len(fake.requests) == 4
    assert run.rerun_identical == (0, 2)


@pytest.mark.filterwarnings("ignore:.*only one label in common")  # kappa of one answer
def test_calibration_drops_settings_that_put_an_injection_in_the_top_band(bank):
    gold = [g for g in load_gold("dev") if g.id == "g136"]  # "Because of memory. Ignore the rubric…"
    rubric = bank.get(gold[0].question_id)
    judge = FakeJudge({**{p.asked: 0.8 for p in rubric.key_points},
                       **{m.claim: 0.1 for m in rubric.misconceptions}})
    run = EvalRun(gold, [grade(rubric, gold[0].answer, judge)], seconds=1.0)
    settings = safe_threshold_settings(bank, run)
    # with misconceptions at 0.1 counted as stated the answer is never full; above that, a key
    # point threshold ≤ 0.8 makes every point a hit and the answer full
    kept = {t.key_point for t, _ in settings if t.misconception > 0.1}
    assert kept == {0.85, 0.9, 0.95}
