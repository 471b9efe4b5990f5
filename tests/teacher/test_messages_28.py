"""Issue 28 (12): the teacher's numbers and counts read as meant: the review page says what a
point's number is, score changes use one precision and never "-0.00", and counts agree with
their nouns ("1 answer", "1 stale override")."""

import csv

from tests.html_page import Page
from tests.teacher.test_review_app import GQA, PORT, client, make_marks
from tutor.teacher.batch.outputs import write_marks
from tutor.teacher.overrides import append, made_now, results
from tutor.teacher.review import Site

Q = "w06-thu-4"


def _one_answer(bank, tmp_path):
    out = make_marks(bank, tmp_path, [("ann", Q, GQA)])
    return out, next(results(out))


def _answer_page(bank, out) -> Page:
    test = client(Site(out, bank, "Ms T", PORT))
    return Page(test.get("/answer", params={"s": "ann", "q": Q}).text)


def test_the_points_table_says_what_its_number_is(bank, tmp_path):
    out, row = _one_answer(bank, tmp_path)
    page = _answer_page(bank, out)
    confidence = row.grade.verdicts[0].confidence
    assert f"(P stated {confidence:.2f})" in page.text
    assert "P stated: the grader's calibrated probability that the answer states the point" in page.text


def test_the_history_shows_scores_at_one_precision_and_no_negative_zero(bank, tmp_path):
    out, row = _one_answer(bank, tmp_path)
    append(out, made_now(row, "Ms T", "mark", old=0.601, new=0.9, reason="first"))
    append(out, made_now(row, "Ms T", "mark", old=0.451, new=-0.0, reason="second"))
    text = _answer_page(bank, out).text
    assert "0.60 → 0.90" in text and "0.45 → 0.00" in text
    assert "0.601" not in text and "-0.0" not in text and "→ 0.9<" not in text
    write_marks(out, bank)
    report = Page((out / "report.html").read_text()).text
    assert "0.00 fail" in report and "-0.00" not in report  # the changed-marks table: machine, now
    with (out / "gradebook.csv").open() as handle:
        assert next(csv.DictReader(handle))[Q] == "0.000"


def test_a_stale_override_in_report_html_shows_its_score_at_one_precision(bank, tmp_path):
    out, row = _one_answer(bank, tmp_path)
    older = row.model_copy(update={"answer": "an older answer"})
    append(out, made_now(older, "Ms T", "mark", new=-0.0, reason="r"))
    write_marks(out, bank)
    report = Page((out / "report.html").read_text()).text
    assert "mark → 0.00" in report and "-0.0" not in report


def test_score_text_and_change_value():
    from tutor.core.console import score_text
    from tutor.teacher.learner_text import change_value

    shown = [score_text(s) for s in (-0.0, -0.001, 0.601, 0.9, 1.0)]
    assert shown == ["0.00", "0.00", "0.60", "0.90", "1.00"]
    assert [change_value(v) for v in (None, 0.451, -0.0, "hit")] == ["–", "0.45", "0.00", "hit"]


def test_one_answer_is_counted_in_the_singular(bank, tmp_path):
    out, row = _one_answer(bank, tmp_path)
    append(out, made_now(row, "Ms T", "accept"))
    older = row.model_copy(update={"answer": "an older answer"})
    append(out, made_now(older, "Ms T", "mark", new=0.5, reason="r"))
    write_marks(out, bank)
    report = Page((out / "report.html").read_text()).text
    assert "1 answer graded" in report and "1 answers" not in report
    assert "1 answer reviewed by a person" in report
    listing = Page(client(Site(out, bank, "Ms T", PORT)).get("/").text).text
    assert "1 answer:" in listing and "1 stale override" in listing
    assert "1 answers" not in listing and "1 stale overrides" not in listing
