"""Issue 27 regressions for `tutor grade`'s inputs, each with its neighbours: an unbalanced CSV
quote in any column or place, duplicate columns or fields, numeric student ids, empty inputs,
question ids in any case or deck text without its `?`, and Markdown text outside any answer."""

import json

import pytest

from tutor.core.errors import TutorError
from tutor.core.judges.fake import FakeJudge
from tutor.teacher.batch.command import grade_submissions
from tutor.teacher.batch.inputs import Rejected, Submission, read_submissions

HEADER = "student,question,answer\n"


def rows_of(bank, tmp_path, text: str, name: str = "class.csv") -> list:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_submissions(bank, [path])


def shown(rows: list) -> list[tuple[str, int, str]]:
    """(kind, line, student or reason) per row, for comparing whole files at once."""
    return [(type(r).__name__, int(r.source.rsplit(":", 1)[1]),
             r.student if isinstance(r, Submission) else r.reason.split(":")[0]) for r in rows]


# 7. An unbalanced quote never merges rows; duplicate columns are refused

UNBALANCED = "unbalanced quote"


@pytest.mark.parametrize(("body", "expected"), [
    # the case: the answer's quote never closes, two rows follow
    ('alice,w06-mon-2,"fp16 uses 2 bytes so 140 GB\nbob,w06-mon-2,140 GB\ncarol,w06-mon-2,70 GB\n',
     [("Rejected", 2, UNBALANCED), ("Submission", 3, "bob"), ("Submission", 4, "carol")]),
    # a later quote closes it: the field swallows a row and ends in the middle of another
    ('alice,w06-mon-2,"fp16 uses 2 bytes\nbob,w06-mon-2,140 GB\ncarol,w06-mon-2,"70 GB"\ndee,w06-mon-2,ok\n',
     [("Rejected", 2, UNBALANCED), ("Submission", 3, "bob"), ("Submission", 4, "carol"),
      ("Submission", 5, "dee")]),
    # the quote is opened in the student column
    ('"alice,w06-mon-2,140 GB\nbob,w06-mon-2,140 GB\n',
     [("Rejected", 2, UNBALANCED), ("Submission", 3, "bob")]),
    # in the question column
    ('alice,"w06-mon-2,140 GB\nbob,w06-mon-2,140 GB\n',
     [("Rejected", 2, UNBALANCED), ("Submission", 3, "bob")]),
    # on the last row, with and without the final newline
    ('alice,w06-mon-2,ok\nbob,w06-mon-2,"140 GB\n',
     [("Submission", 2, "alice"), ("Rejected", 3, UNBALANCED)]),
    ('alice,w06-mon-2,ok\nbob,w06-mon-2,"140 GB',
     [("Submission", 2, "alice"), ("Rejected", 3, UNBALANCED)]),
    # two runaways in one file: each is reported, every other row is read
    ('a,w06-mon-2,"one\nb,w06-mon-2,ok\nc,w06-mon-2,"two\nd,w06-mon-2,ok\n',
     [("Rejected", 2, UNBALANCED), ("Submission", 3, "b"), ("Rejected", 4, UNBALANCED),
      ("Submission", 5, "d")]),
], ids=["answer-to-eof", "closed-by-a-later-quote", "student-column", "question-column", "last-row",
        "last-row-no-newline", "two-runaways"])
def test_an_unbalanced_quote_is_reported_by_line_and_merges_no_rows(bank, tmp_path, body, expected):
    rows = rows_of(bank, tmp_path, HEADER + body)
    assert shown(rows) == expected
    assert all("\n" not in r.answer for r in rows if isinstance(r, Submission))


@pytest.mark.parametrize("after", ["bob,w06-thu-4,ok\n", ""], ids=["then-a-row", "last-without-newline"])
def test_a_multi_line_answer_that_is_properly_quoted_is_still_one_answer(bank, tmp_path, after):
    answer = 'GQA shares heads.\nw06-mon-2, "quoted", and a line with commas, too'
    rows = rows_of(bank, tmp_path, HEADER + f'ann,w06-thu-4,"{answer.replace(chr(34), chr(34) * 2)}"'
                                            f"{chr(10) if after else ''}{after}")
    assert [(r.student, r.answer) for r in rows] == [("ann", answer), ("bob", "ok")][:2 if after else 1]


def test_the_unbalanced_row_counts_as_a_problem_in_the_batch(bank, tmp_path):
    path = tmp_path / "class.csv"
    path.write_text(HEADER + 'alice,w06-mon-2,"140 GB\nbob,w06-mon-2,140 GB\ncarol,w06-mon-2,70 GB\n')
    summary = grade_submissions(bank, FakeJudge, [path], tmp_path / "out")
    assert (summary.graded, summary.failed, summary.set_aside) == (2, 0, 1)
    problems = (tmp_path / "out" / "problems.csv").read_text()
    assert f"{path}:2" in problems and UNBALANCED in problems


@pytest.mark.parametrize("header", ["student,question,answer,answer", "student,question,answer, answer ",
                                    "student,student,question,answer", "student,question,question,answer",
                                    "student,question,audio,audio", "student,question,answer,notes,notes"])
def test_a_duplicate_column_refuses_the_file_in_one_line(bank, tmp_path, header):
    rows = rows_of(bank, tmp_path, f"{header}\nann,w06-thu-4,a,b,c\n")
    assert len(rows) == 1 and isinstance(rows[0], Rejected)
    assert rows[0].source.endswith(":1") and rows[0].reason.startswith("duplicate column(s): ")
    assert "\n" not in rows[0].reason


def test_blank_column_names_are_not_duplicates(bank, tmp_path):
    rows = rows_of(bank, tmp_path, "student,question,answer,,\nann,w06-thu-4,GQA,,\n")
    assert [type(r) for r in rows] == [Submission]


@pytest.mark.parametrize("line", [
    '{"student": "ann", "question": "w06-thu-4", "answer": "a", "answer": "b"}',
    '{"student": "ann", "student": "bob", "question": "w06-thu-4", "answer": "a"}'])
def test_a_jsonl_line_naming_a_field_twice_is_rejected(bank, tmp_path, line):
    [row] = rows_of(bank, tmp_path, line + "\n", "class.jsonl")
    assert isinstance(row, Rejected) and row.source.endswith(":1") and "duplicate field" in row.reason


# 8. Numeric student ids

def test_whole_number_student_ids_are_ids(bank, tmp_path):
    lines = [{"student": 12345, "question": "w06-thu-4", "answer": "GQA"},
             {"student": 0, "question": "w06-thu-4", "answer": "GQA"},
             {"student": "12345", "question": "w06-fri-3", "answer": "LoRA"}]
    rows = rows_of(bank, tmp_path, "".join(json.dumps(x) + "\n" for x in lines), "class.jsonl")
    assert [(type(r), r.student) for r in rows] == [(Submission, "12345"), (Submission, "0"),
                                                      (Submission, "12345")]


@pytest.mark.parametrize(("student", "says"), [
    (12.5, "a decimal number (12.5)"), (12345.0, "a decimal number (12345.0)"), (True, "true/false"),
    (False, "true/false"), ([1], "a list"), ({"id": 1}, "an object")])
def test_other_student_values_name_the_field_and_what_it_is(bank, tmp_path, student, says):
    line = json.dumps({"student": student, "question": "w06-thu-4", "answer": "GQA"})
    [row] = rows_of(bank, tmp_path, line + "\n", "class.jsonl")
    assert isinstance(row, Rejected)
    assert row.reason == f"field 'student' must be text or a whole number, not {says}"


@pytest.mark.parametrize("student", [None, "", "   "])
def test_null_or_blank_student_is_still_missing(bank, tmp_path, student):
    line = json.dumps({"student": student, "question": "w06-thu-4", "answer": "GQA"})
    [row] = rows_of(bank, tmp_path, line + "\n", "class.jsonl")
    assert isinstance(row, Rejected) and row.reason == "missing student"


def test_a_numeric_question_stays_a_problem(bank, tmp_path):
    """Question ids are names such as w06-thu-4, never numbers."""
    line = json.dumps({"student": 1, "question": 4, "answer": "GQA"})
    [row] = rows_of(bank, tmp_path, line + "\n", "class.jsonl")
    assert isinstance(row, Rejected) and row.reason == "field 'question' must be text, not a number"


def test_a_class_with_numeric_ids_is_graded_under_them(bank, tmp_path):
    path = tmp_path / "class.jsonl"
    path.write_text("".join(json.dumps({"student": 1000 + n, "question": "w06-thu-4", "answer": "GQA"}) + "\n"
                            for n in range(3)))
    summary = grade_submissions(bank, FakeJudge, [path], tmp_path / "out")
    assert (summary.graded, summary.failed) == (3, 0)
    results = [json.loads(x) for x in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert sorted(r["student"] for r in results) == ["1000", "1001", "1002"]


# 12. Empty inputs are not "graded 0"

@pytest.mark.parametrize("layout", ["empty", "only-hidden", "only-out"])
def test_an_empty_submissions_folder_is_one_error(bank, tmp_path, layout):
    folder = tmp_path / "subs"
    folder.mkdir()
    if layout == "only-hidden":
        (folder / ".DS_Store").write_bytes(b"\0")
    out = folder / "marks" if layout == "only-out" else tmp_path / "marks"
    if layout == "only-out":
        out.mkdir()
        (out / "results.jsonl").write_text("")
    with pytest.raises(TutorError, match="no submissions in this folder") as caught:
        grade_submissions(bank, FakeJudge, [folder], out)
    assert str(folder) in caught.value.message


@pytest.mark.parametrize(("name", "text"), [("class.csv", HEADER), ("class.csv", HEADER + "\n\n"),
                                            ("class.jsonl", ""), ("class.jsonl", "\n  \n")])
def test_a_file_with_no_rows_is_reported(bank, tmp_path, name, text):
    [row] = rows_of(bank, tmp_path, text, name)
    assert isinstance(row, Rejected) and "no answers in this file" in row.reason


# 12. Questions by id in any case, or by deck text without its closing `?`

DECK_TEXT = "MQA vs GQA — what gets shared, and why does that help memory?"  # w06-thu-4's


@pytest.mark.parametrize("question", [
    "W06-THU-4", " w06-Thu-4 ", DECK_TEXT.removesuffix("?"), DECK_TEXT.upper(),
    DECK_TEXT.removesuffix("?") + " ?", DECK_TEXT.replace("?", ".")])
def test_a_question_by_id_in_any_case_or_by_text_without_its_mark_is_found(bank, tmp_path, question):
    assert bank.get("w06-thu-4").question == DECK_TEXT
    line = json.dumps({"student": "ann", "question": question, "answer": "GQA"})
    assert [(type(r), getattr(r, "question_id", None)) for r in rows_of(bank, tmp_path, line + "\n",
                                                                          "class.jsonl")] == \
        [(Submission, "w06-thu-4")]


def test_markdown_headings_and_recordings_forgive_case_too(bank, tmp_path):
    (tmp_path / "ann.md").write_text("## W06-THU-4\nGQA\n")
    [row] = read_submissions(bank, [tmp_path / "ann.md"])
    assert isinstance(row, Submission) and row.question_id == "w06-thu-4"


# 13. Markdown: text outside any answer is reported, and how to keep a `#` line in one

def test_text_before_the_first_heading_is_reported(bank, tmp_path):
    (tmp_path / "ann.md").write_text("My answers, week 6.\n\n## w06-thu-4\nGQA shares heads\n")
    rows = read_submissions(bank, [tmp_path / "ann.md"])
    assert shown(rows) == [("Rejected", 1, "text before the first heading answers no question and is not "
                                           "graded"), ("Submission", 3, "ann")]


def test_blank_lines_before_the_first_heading_are_not_reported(bank, tmp_path):
    (tmp_path / "ann.md").write_text("\n\n## w06-thu-4\nGQA shares heads\n")
    assert [type(r) for r in read_submissions(bank, [tmp_path / "ann.md"])] == [Submission]


@pytest.mark.parametrize("line", ["# of heads = 8", "## Note", "###### 6 levels deep"])
def test_a_heading_like_line_that_cuts_an_answer_is_reported(bank, tmp_path, line):
    (tmp_path / "ann.md").write_text(f"## w06-thu-4\nGQA shares heads\n{line}\nand the rest\n"
                                     "## w06-fri-3\nrank 16\n")
    rows = read_submissions(bank, [tmp_path / "ann.md"])
    assert [type(r) for r in rows] == [Submission, Rejected, Submission]
    assert rows[1].source.endswith(":3") and "cut the answer on line 1" in rows[1].reason
    assert "\\#" in rows[1].reason  # says how to write such a line


@pytest.mark.parametrize(("written", "graded"), [("\\# of heads = 8", "# of heads = 8"),
                                                 ("    # of heads = 8", "    # of heads = 8"),
                                                 ("#8 heads", "#8 heads")])
def test_a_hash_line_written_as_readme_says_stays_in_the_answer(bank, tmp_path, written, graded):
    (tmp_path / "ann.md").write_text(f"## w06-thu-4\nGQA shares heads\n{written}\nand the rest\n")
    [row] = read_submissions(bank, [tmp_path / "ann.md"])
    assert isinstance(row, Submission) and row.answer == f"GQA shares heads\n{graded}\nand the rest"


def test_an_unknown_first_heading_is_still_an_unknown_question(bank, tmp_path):
    (tmp_path / "ann.md").write_text("## w06-zzz-9\nsomething\n## w06-thu-4\nGQA\n")
    rows = read_submissions(bank, [tmp_path / "ann.md"])
    assert [type(r) for r in rows] == [Rejected, Submission] and "unknown question" in rows[0].reason
