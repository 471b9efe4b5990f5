"""Graded answers as typed records: the lines written stay as they were, old lines still load."""

import json

import pytest

from tutor.core.errors import TutorError
from tutor.core.judges.fake import FakeJudge
from tutor.core.result import Grade
from tutor.teacher.records import GradedAnswer, read_results, results_lines

QUESTION = "w06-thu-4"


@pytest.fixture
def graded(bank) -> Grade:
    from tutor.core.grader import grade

    return grade(bank.get(QUESTION), "GQA shares one KV head per group of query heads", FakeJudge())


def as_before(key, student, source, answer, grade, audio=None, seconds=None):
    """The results line as `result_line` wrote it before the record existed (a dict, by hand)."""
    spoken = {"audio": audio, "audio_seconds": seconds, "transcript": True} if audio else {}
    row = {"key": key, "student": student, "question_id": grade.question_id, "score": grade.score,
           "band": grade.band.value if grade.band else None, "status": grade.status, "review": grade.review,
           "source": source, "answer": answer, **spoken, "grade": grade.model_dump(mode="json")}
    return json.dumps(row, ensure_ascii=False) + "\n"


def test_a_line_is_written_byte_for_byte_as_before(graded):
    typed = GradedAnswer.of("k1", "Ann Ö", "class.csv:2", "GQA …", graded)
    assert typed.line() == as_before("k1", "Ann Ö", "class.csv:2", "GQA …", graded)
    spoken = GradedAnswer.of("k2", "bob", "bob/x.wav", "heard", graded, "bob/x.wav", 4.25)
    assert spoken.line() == as_before("k2", "bob", "bob/x.wav", "heard", graded, "bob/x.wav", 4.25)
    ungraded = Grade.ungraded(QUESTION, "server down")
    failed = GradedAnswer.of("k3", "cy", "in:3", "", ungraded)
    assert failed.line() == as_before("k3", "cy", "in:3", "", ungraded)


def test_a_lone_surrogate_is_written_as_its_escape_and_reads_back(tmp_path, graded):
    typed = GradedAnswer.of("k1", "ann", "b\udcffad.csv:2", "x", graded)
    path = tmp_path / "results.jsonl"
    path.write_text(typed.line(), encoding="utf-8")
    assert "\\udcff" in path.read_text(encoding="utf-8")
    assert [r.source for r in read_results(path)] == ["b\udcffad.csv:2"]


def test_a_line_from_before_review_flags_still_loads(tmp_path, graded):
    old = json.loads(as_before("k1", "ann", "in:1", "GQA", graded))
    del old["review"]
    path = tmp_path / "results.jsonl"
    path.write_text(json.dumps(old) + "\n")
    [row] = read_results(path)
    assert (row.review, row.transcript, row.audio, row.grade) == (False, False, None, graded)


def test_a_cut_line_is_skipped_and_a_wrong_line_is_one_error(tmp_path, graded):
    path = tmp_path / "results.jsonl"
    good = GradedAnswer.of("k1", "ann", "in:1", "GQA", graded).line()
    path.write_text(good + '{"key": "half a li')
    assert [r.key for r in read_results(path)] == ["k1"]
    assert [key for _, _, key in results_lines(path)] == ["k1"]
    path.write_text(good + json.dumps({"key": "k2", "student": "bob"}) + "\n")
    with pytest.raises(TutorError, match=r"results.jsonl:2: .*question_id") as caught:
        list(read_results(path))
    assert "\n" not in caught.value.message
