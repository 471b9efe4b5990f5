"""Issue 13 regressions for `tutor grade`: bad rows are reported one by one, nothing is lost,
overwritten or graded twice, and learner text cannot carry active Markdown into feedback."""

import codecs
import csv
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from tutor.core.decide import PlainHead, Thresholds
from tutor.core.errors import TutorError
from tutor.core.grader import grade
from tutor.core.judges.fake import FakeJudge
from tutor.teacher.batch.command import grade_submissions
from tutor.teacher.batch.inputs import Rejected, Submission, read_submissions

GOOD = "GQA shares one key value head per group of query heads"


def grade_csv(bank, tmp_path, text: str, judge=None, name="class.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    summary = grade_submissions(bank, lambda: judge or FakeJudge(), [path], out)
    return path, out, summary


def table(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# 1. JSONL fields of the wrong type

def test_jsonl_answer_that_is_not_text_is_rejected_naming_line_and_field(bank, tmp_path):
    path = tmp_path / "class.jsonl"
    answers = [42, [1, 2], {"a": 1}, None, True]
    path.write_text("".join(json.dumps({"student": f"s{i}", "question": "w06-thu-4", "answer": a}) + "\n"
                            for i, a in enumerate(answers)))
    rows = read_submissions(bank, [path])
    assert all(isinstance(r, Rejected) for r in rows), rows
    assert [r.source for r in rows] == [f"{path}:{n}" for n in range(1, 6)]
    assert all("answer" in r.reason and "\n" not in r.reason for r in rows)


def test_jsonl_student_or_question_that_is_not_text_is_rejected(bank, tmp_path):
    path = tmp_path / "class.jsonl"
    lines = [{"student": None, "question": "w06-thu-4", "answer": GOOD},
             {"student": "", "question": "w06-thu-4", "answer": GOOD},
             {"question": "w06-thu-4", "answer": GOOD},
             {"student": "ann", "question": 12, "answer": GOOD},
             {"student": "ann", "question": ["w06-thu-4"], "answer": GOOD}]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    rows = read_submissions(bank, [path])
    assert all(isinstance(r, Rejected) for r in rows), rows
    assert [r.reason for r in rows[:3]] == ["missing student"] * 3
    assert all("question" in r.reason for r in rows[3:])


def test_jsonl_null_student_is_never_graded_as_none(bank, tmp_path):
    path = tmp_path / "class.jsonl"
    path.write_text(json.dumps({"student": None, "question": "w06-thu-4", "answer": GOOD}) + "\n")
    out = tmp_path / "out"
    grade_submissions(bank, FakeJudge, [path], out)
    assert "None" not in (out / "gradebook.csv").read_text()
    assert "missing student" in (out / "problems.csv").read_text()


# 2. CSV: BOM, one bad byte, one huge field

def test_csv_with_a_utf8_bom_reads_normally(bank, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(codecs.BOM_UTF8 + f"student,question,answer\nann,w06-thu-4,{GOOD}\n".encode())
    assert read_submissions(bank, [path]) == [Submission(f"{path}:2", "ann", "w06-thu-4", GOOD)]


def test_one_invalid_utf8_byte_rejects_only_its_row_by_line(bank, tmp_path):
    path = tmp_path / "class.csv"
    path.write_bytes(b"student,question,answer\n"
                     b"ann,w06-thu-4,fine\n"
                     b"bob,w06-thu-4,caf\xe9 latin-1\n"
                     b"cy,w06-thu-4,\"two\nlines\"\n"
                     b"dee,w06-thu-4,also fine\n")
    rows = read_submissions(bank, [path])
    assert [type(r).__name__ for r in rows] == ["Submission", "Rejected", "Submission", "Submission"]
    assert rows[1].source == f"{path}:3" and "UTF-8" in rows[1].reason
    assert (rows[2].student, rows[2].answer) == ("cy", "two\nlines")
    assert rows[3].source == f"{path}:6" and rows[3].student == "dee"


def test_one_field_over_the_csv_limit_rejects_only_its_row(bank, tmp_path):
    path = tmp_path / "class.csv"
    path.write_text("student,question,answer\n"
                    f"ann,w06-thu-4,{'x' * 200_000}\n"
                    "bob,w06-thu-4,fine\n")
    rows = read_submissions(bank, [path])
    assert isinstance(rows[0], Rejected) and rows[0].source == f"{path}:2"
    assert "\n" not in rows[0].reason and len(rows[0].reason) < 200
    assert rows[1] == Submission(f"{path}:3", "bob", "w06-thu-4", "fine")


# 3. Markdown folders: every file is read or reported

def test_markdown_file_without_headings_is_reported(bank, tmp_path):
    (tmp_path / "eve.md").write_text("I wrote my answers but forgot the headings.\n")
    [row] = read_submissions(bank, [tmp_path])
    assert isinstance(row, Rejected) and row.student == "eve" and "heading" in row.reason


def test_folder_reads_any_case_suffix_and_subfolders_and_reports_other_files(bank, tmp_path):
    (tmp_path / "Bob.MD").write_text(f"## w06-thu-4\n{GOOD}\n")
    (tmp_path / "cy.Md").write_text(f"## w06-thu-4\n{GOOD}\n")
    (tmp_path / "group2").mkdir()
    (tmp_path / "group2" / "dee.md").write_text(f"## w06-thu-4\n{GOOD}\n")
    (tmp_path / "notes.txt").write_text("not a submission")
    (tmp_path / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")  # hidden: a desktop's, not a student's
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    rows = read_submissions(bank, [tmp_path])
    assert sorted(r.student for r in rows if isinstance(r, Submission)) == ["Bob", "cy", "dee"]
    [other] = [r for r in rows if isinstance(r, Rejected)]
    assert other.source == str(tmp_path / "notes.txt") and "unsupported file type" in other.reason


# 4. Duplicates: the last row counts, earlier ones are reported

def test_duplicate_student_question_grades_the_last_and_reports_the_earlier(bank, tmp_path):
    path, out, summary = grade_csv(bank, tmp_path, "student,question,answer\n"
                                   "ann,w06-thu-4,first try about GQA heads\n"
                                   f"ann,w06-thu-4,{GOOD}\n")
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [(r["student"], r["answer"]) for r in results] == [("ann", GOOD)]
    [problem] = table(out / "problems.csv")
    assert problem["source"] == f"{path}:2" and problem["problem"].startswith(f"superseded by {path}:3")
    assert (summary.failed, summary.set_aside) == (0, 1)


# 5. Feedback file names

NAMES = ["a/b", "a b", "a_b", ".", "..", "李", "王", "Ann", "ann", "x" * 300, "../../etc/passwd"]


def test_distinct_students_never_share_a_feedback_file(bank, tmp_path):
    path = tmp_path / "class.jsonl"
    path.write_text("".join(json.dumps({"student": n, "question": "w06-thu-4", "answer": GOOD}) + "\n"
                            for n in NAMES))
    out = tmp_path / "out"
    grade_submissions(bank, FakeJudge, [path], out)
    files = list((out / "feedback").iterdir())
    assert len({f.name.lower() for f in files}) == len(NAMES)  # distinct even on a case-blind disk
    assert all(len(f.name.encode()) <= 100 and f.name not in (".md", "..md") for f in files)
    assert not (tmp_path / "etc").exists() and all(f.parent == out / "feedback" for f in files)


def test_a_very_long_student_name_grades_and_regrades(bank, tmp_path):
    name = "long" * 80
    for _ in range(2):  # the second run used to fail again on the same row
        _, out, summary = grade_csv(bank, tmp_path, f"student,question,answer\n{name},w06-thu-4,{GOOD}\n")
        assert summary.failed == 0
    [feedback] = (out / "feedback").iterdir()
    assert name in feedback.read_text()
    assert table(out / "gradebook.csv")[0]["student"] == name


# 6. Markdown safety of feedback/*.md

HOSTILE = "<script>alert(1)</script> [x](javascript:alert(1)) ![](http://evil/x.png) "


def active_tokens(markdown: str) -> list[str]:
    parser = MarkdownIt("commonmark", {"html": True})
    parser.validateLink = lambda url: True  # judge the Markdown, not one renderer's link filter
    found = []
    for token in parser.parse(markdown):
        for t in [token, *(token.children or [])]:
            if t.type in ("html_inline", "html_block", "link_open", "image"):
                found.append(t.type)
    return found


def test_feedback_carries_no_active_markup_from_names_or_answers(bank, tmp_path):
    path = tmp_path / "class.jsonl"
    student = "<img src=x onerror=alert(2)>[me](javascript:alert(3))"
    answer = HOSTILE + GOOD + " " + HOSTILE
    path.write_text(json.dumps({"student": student, "question": "w06-thu-4", "answer": answer}) + "\n")
    out = tmp_path / "out"
    grade_submissions(bank, lambda: FakeJudge(default=0.99), [path], out)
    [feedback] = (out / "feedback").iterdir()
    text = feedback.read_text()
    assert "you wrote" in text and "script" in text  # the evidence is quoted, made inert
    assert active_tokens(text) == []
    rendered = MarkdownIt("commonmark", {"html": True}).render(text)
    assert "<script" not in rendered and "<img" not in rendered and "href=" not in rendered


# 7. A student with nothing graded has no total

class Failing(FakeJudge):
    def __init__(self, marker: str, error: Exception, **kwargs):
        super().__init__(**kwargs)
        self.marker, self.error = marker, error

    def judge(self, request, on_signals=None):
        if self.marker.lower() in request.answer:  # the judge reads the judge form
            raise self.error
        return super().judge(request, on_signals)


def test_all_ungraded_student_has_blank_total_and_says_ungraded(bank, tmp_path):
    judge = Failing("BROKEN", TutorError("server down"))
    _, out, _ = grade_csv(bank, tmp_path, "student,question,answer\n"
                          f"ann,w06-thu-4,{GOOD}\n"
                          f"bob,w06-thu-4,BROKEN {GOOD}\n"
                          f"bob,w06-fri-3,BROKEN rank 16 LoRA adapters\n", judge)
    book = {r["student"]: r for r in table(out / "gradebook.csv")}
    assert book["bob"]["total"] == "" and book["bob"]["status"] == "ungraded"
    assert book["ann"]["total"] != "" and book["ann"]["status"] == "graded"


# 8. One unexpected exception never sinks the batch

def test_an_unexpected_exception_leaves_one_row_ungraded_and_the_batch_finishes(bank, tmp_path):
    judge = Failing("BROKEN", ValueError("bad\nthing"))
    _, out, summary = grade_csv(bank, tmp_path, "student,question,answer\n"
                                f"ann,w06-thu-4,{GOOD}\n"
                                f"bob,w06-thu-4,BROKEN {GOOD}\n"
                                f"cy,w06-thu-4,{GOOD}\n", judge)
    results = {r["student"]: r for r in map(json.loads, (out / "results.jsonl").read_text().splitlines())}
    assert [results[s]["status"] for s in ("ann", "bob", "cy")] == ["graded", "ungraded", "graded"]
    assert results["bob"]["grade"]["reason"] == "ValueError: bad thing"
    assert (summary.graded, summary.failed) == (2, 1)
    assert "ValueError: bad thing" in (out / "problems.csv").read_text()
    assert (out / "report.html").exists() and len(table(out / "gradebook.csv")) == 3


# 9. One run per --out; --out must be a folder

def tutor_grade(csv_path: Path, out: Path, delay: str) -> subprocess.Popen:
    env = {**os.environ, "TUTOR_FAKE_DELAY": delay}
    return subprocess.Popen([sys.executable, "-m", "tutor", "--backend", "fake", "grade", str(csv_path),
                             "--out", str(out)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_a_second_run_on_a_busy_out_folder_refuses(tmp_path):
    class_csv = tmp_path / "class.csv"
    class_csv.write_text("student,question,answer\n" +
                         "".join(f"s{i},w06-thu-4,{GOOD} {i}\n" for i in range(40)))
    out = tmp_path / "out"
    first = tutor_grade(class_csv, out, "0.05")
    try:
        deadline = time.monotonic() + 60
        while not ((out / "results.jsonl").exists() and (out / "results.jsonl").read_text()):
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.05)
        second = tutor_grade(class_csv, out, "0")
        _, err = second.communicate(timeout=60)
        assert second.returncode == 2
        assert err.count("\n") == 1 and str(out) in err and "Traceback" not in err
    finally:
        first.kill()
        first.wait()


def test_out_that_is_a_file_is_one_clear_error(bank, tmp_path):
    path = tmp_path / "class.csv"
    path.write_text(f"student,question,answer\nann,w06-thu-4,{GOOD}\n")
    out = tmp_path / "marks"
    out.write_text("not a folder")
    with pytest.raises(TutorError, match="marks"):
        grade_submissions(bank, FakeJudge, [path], out)
    assert out.read_text() == "not a folder"


# 10. Memory stays flat as the class grows

def traced_peak(bank, folder: Path, rows: int) -> int:
    folder.mkdir()
    class_csv = folder / "class.csv"
    with class_csv.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "question", "answer"])
        writer.writerows([f"s{i // 2:05d}", ("w06-thu-4", "w06-fri-3")[i % 2], f"{GOOD}, attempt {i}"]
                         for i in range(rows))
    tracemalloc.start()
    try:
        grade_submissions(bank, FakeJudge, [class_csv], folder / "out")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_grows_far_slower_than_the_class(bank, tmp_path, monkeypatch):
    """Orchestration only (reading, results, outputs): every answer gets one canned grade."""
    canned = grade(bank.get("w06-thu-4"), GOOD, FakeJudge(default=0.9))
    monkeypatch.setattr("tutor.teacher.batch.run.grade", lambda rubric, answer, judge: canned)
    monkeypatch.setattr("tutor.teacher.batch.run.os.fsync", lambda fd: None)
    small, large = (traced_peak(bank, tmp_path / str(n), n) for n in (2000, 8000))
    # holding every row cost ~21 KB per extra row (42 MB → 167 MB); a few keys per row remain
    assert (large - small) / 6000 < 2000, (small, large)


def test_an_out_folder_inside_the_submissions_folder_is_not_read_as_submissions(bank, tmp_path):
    (tmp_path / "ann.md").write_text(f"## w06-thu-4\n{GOOD}\n")
    out = tmp_path / "marks"
    first = grade_submissions(bank, lambda: FakeJudge(), [tmp_path], out)
    assert list((out / "feedback").glob("*.md"))  # Markdown files with headings, inside the folder
    again = grade_submissions(bank, lambda: FakeJudge(), [tmp_path], out)
    assert (first.failed, again.failed, again.skipped) == (0, 0, 1)
    assert not (out / "problems.csv").exists() or table(out / "problems.csv") == []


def test_the_batch_grades_with_the_head_chosen_for_the_loaded_judge(bank, tmp_path):
    path = tmp_path / "class.csv"
    path.write_text(f"student,question,answer\ns1,w06-thu-4,{GOOD}\n", encoding="utf-8")
    judge = FakeJudge(default=0.7)
    strict = PlainHead(Thresholds(key_point=0.95))  # 0.7: no key point (the default: every one)
    grade_submissions(bank, lambda: judge, [path], tmp_path / "strict", choose_head=lambda j: strict)
    grade_submissions(bank, lambda: judge, [path], tmp_path / "default")
    scores = [json.loads((tmp_path / run / "results.jsonl").read_text())["score"]
              for run in ("strict", "default")]
    assert scores[0] == 0.0 < scores[1]
