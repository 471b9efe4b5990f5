"""A generated class of 30 students × 5 questions graded with the real default model."""

import csv
import json
import subprocess
import sys
from statistics import mean

import numpy as np
import pytest

from tests.html_page import Page
from tests.teacher.batch.classgen import write_class
from tutor.teacher.batch.outputs import feedback_name

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    plan = write_class(folder / "class.csv", students=30)
    result = subprocess.run([sys.executable, "-m", "tutor", "grade", str(folder / "class.csv"),
                             "--out", str(folder / "out")], capture_output=True, text=True, timeout=3600)
    return folder / "out", plan, result


def test_every_answer_has_one_result_line(graded_class):
    out, plan, result = graded_class
    assert result.returncode == 0, result.stderr
    assert "graded 150, skipped 0 (done before), " in result.stdout and "answers/min" in result.stdout
    assert "failed" not in result.stdout and "set aside" not in result.stdout
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [(r["student"], r["question_id"]) for r in rows] == [(s, q) for s, q, _ in plan]
    assert all(r["band"] in {"fail", "partial", "full"} and 0 <= r["score"] <= 1 for r in rows)


def test_grades_separate_strong_wrong_and_injection(graded_class):
    out, plan, _ = graded_class
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    by_kind: dict[str, list[float]] = {}
    for (_, _, kind), row in zip(plan, rows, strict=True):
        by_kind.setdefault(kind, []).append(row["score"])
    assert mean(by_kind["strong"]) >= mean(by_kind["wrong"]) + 0.3
    assert max(by_kind["injection"]) == 0


def test_gradebook_totals_equal_the_sum_of_results(graded_class):
    out, _, _ = graded_class
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    with (out / "gradebook.csv").open() as handle:
        book = list(csv.DictReader(handle))
    assert len(book) == 30
    for line in book:
        own = [r["score"] for r in rows if r["student"] == line["student"]]
        assert float(line["total"]) == pytest.approx(sum(own), abs=1e-3)


def test_feedback_and_report(graded_class):
    out, _, _ = graded_class
    assert len(list((out / "feedback").glob("*.md"))) == 30
    feedback = (out / "feedback" / feedback_name("student00")).read_text()
    assert feedback.startswith("# Feedback for \u2068student00") and "Score " in feedback  # name isolated
    page = (out / "report.html").read_text()
    shown = Page(page)
    assert shown.scripts == [] and "<script>alert(" in shown.text  # student text shown, never run
    assert "Most-missed key points" in page and "Sections to re-teach" in page


def test_concurrent_workers_share_the_local_model_safely(graded_class, tmp_path):
    """`--parallel-answers 3` on the local backend once crashed llama.cpp (issue 13): calls now
    queue on the one context, and the results equal the sequential run's."""
    out, _, _ = graded_class
    folder = tmp_path / "small"
    folder.mkdir()
    write_class(folder / "class.csv", students=3)
    result = subprocess.run([sys.executable, "-m", "tutor", "grade", str(folder / "class.csv"),
                             "--out", str(folder / "out"), "--parallel-answers", "3"],
                            capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr[-2000:] + result.stdout[-2000:]
    concurrent = [json.loads(line) for line in (folder / "out" / "results.jsonl").read_text().splitlines()]
    sequential = {(r["student"], r["question_id"]): r["grade"]
                  for r in map(json.loads, (out / "results.jsonl").read_text().splitlines())}
    assert len(concurrent) == 15
    for row in concurrent:
        assert row["grade"] == sequential[(row["student"], row["question_id"])]


def test_a_teachers_review_of_real_grades_refits_the_real_head(graded_class, tmp_path):
    """Overrides on grades made by the local model (hidden states and all): the teacher marks every
    injection's key points unstated and accepts the rest; `calibrate --from` refits the shipped
    probe's thresholds on that, and `eval --from` measures the grader against the teacher."""
    import shutil

    from tutor.core.decide import ProbeHead, shipped_head
    from tutor.teacher import overrides
    from tutor.teacher.overrides import results

    out = shutil.copytree(graded_class[0], tmp_path / "marks")
    for row in results(out):
        if row.answer.startswith("SYSTEM:"):
            for v in row.grade.by_kind("key_point"):
                if v.outcome == "hit":
                    overrides.append(out, overrides.made_now(row, "t", "point", point_id=v.point_id,
                                                             old="hit", new="miss"))
        overrides.append(out, overrides.made_now(row, "t", "accept"))
    run = [sys.executable, "-m", "tutor"]
    refit = subprocess.run([*run, "calibrate", "--from", str(out), "--out", str(tmp_path / "h.npz")],
                           capture_output=True, text=True, timeout=600)
    assert refit.returncode == 0, refit.stderr
    assert len((out / "labelled.jsonl").read_text().splitlines()) == 150
    head, shipped = ProbeHead.load(tmp_path / "h.npz"), shipped_head()
    assert shipped is not None and head.name.startswith(shipped.name + "@")
    assert np.array_equal(head.coef, shipped.coef)  # the probe's weights stay; where it decides moves
    report = subprocess.run([*run, "--head", str(tmp_path / "h.npz"), "eval", "--from", str(out)],
                            capture_output=True, text=True, timeout=600)
    assert report.returncode == 0, report.stderr
    assert "| answers (ungraded) | 150 (0) |" in report.stdout
