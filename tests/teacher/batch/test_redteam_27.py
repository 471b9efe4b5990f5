"""Red team of issue 27's fixes, `tutor grade`'s inputs and outputs, each with its neighbours:
text that cannot be encoded (lone surrogates in any field, file names with undecodable bytes),
rows wider than the header, a multi-line quoted field that closes cleanly, column and field
names that differ only in case or spaces, control characters in every output."""

import json
import os

import pytest

from tutor.core.judges.fake import FakeJudge
from tutor.teacher.batch.command import grade_submissions
from tutor.teacher.batch.inputs import Rejected, Submission, read_submissions

HEADER = "student,question,answer\n"
IVY = {"student": "ivy", "question": "w06-thu-4", "answer": "GQA groups"}


def rows_of(bank, tmp_path, text: str, name: str = "class.csv") -> list:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_submissions(bank, [path])


def jsonl(*lines: dict) -> str:
    """JSON lines as a class would export them: escapes such as \\ud800 kept as written."""
    return "".join(json.dumps(line) + "\n" for line in lines)


# R1. A field that is no text is one rejected row; the rest of the batch is graded

@pytest.mark.parametrize("field", ["student", "question", "answer", "audio"])
@pytest.mark.parametrize("value", ["\ud800 lone", "\udc80x", "ok \udfff", "\udbff"])
def test_a_lone_surrogate_in_any_jsonl_field_rejects_that_row_by_line(bank, tmp_path, field, value):
    line = {"student": "hal", "question": "w06-thu-4", "answer": "GQA"} | {field: value}
    first, second = rows_of(bank, tmp_path, jsonl(line, IVY), "class.jsonl")
    assert isinstance(first, Rejected) and first.source.endswith("class.jsonl:1")
    assert first.reason.startswith(f"field '{field}' is not valid text")
    assert isinstance(second, Submission) and second.student == "ivy"


def test_a_batch_with_lone_surrogates_grades_the_others_and_writes_every_output(bank, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "a.jsonl").write_text(jsonl({**IVY, "student": "hal", "answer": "\ud800 lone"},
                                        {**IVY, "student": "\udc80x"}, IVY))
    (subs / "b.csv").write_bytes(HEADER.encode() + b"kim,w06-thu-4,bad \xed\xa0\x80 bytes\n"
                                 b"jo,w06-thu-4,GQA\n")
    # a file whose name is not UTF-8 (its bytes become surrogates in the path)
    odd = subs / os.fsdecode(b"c\xff.jsonl")
    odd.write_text(jsonl({**IVY, "student": "lee"}))
    out = tmp_path / "out"
    for _ in range(2):  # a rerun reads back what the first run wrote
        summary = grade_submissions(bank, FakeJudge, [subs], out)
    assert (summary.graded + summary.skipped, summary.failed, summary.set_aside) == (3, 0, 3)
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(r["student"] for r in results) == ["ivy", "jo", "lee"]
    problems = (out / "problems.csv").read_text(encoding="utf-8")
    assert "a.jsonl:1" in problems and "a.jsonl:2" in problems and "b.csv:2" in problems
    [lee] = [r["source"] for r in results if r["student"] == "lee"]
    assert lee == f"{odd}:1"  # the undecodable name reads back as it was
    assert "lee" in (out / "gradebook.csv").read_text(encoding="utf-8")


# R4. A row wider than its header is reported, never cut

@pytest.mark.parametrize("row", [
    "alice,w06-mon-2,fp16 is 2 bytes, so 140 GB",
    'alice,w06-mon-2,=HYPERLINK("http://x","click")',
    "alice,w06-mon-2,a,b,c,d",
    "alice,w06-mon-2,140 GB, ",  # a blank extra field before a non-blank one is still cut text
])
def test_a_row_with_more_fields_than_the_header_is_reported_by_line(bank, tmp_path, row):
    text = HEADER + row + ("x" if row.endswith(" ") else "") + "\nbob,w06-mon-2,140 GB\n"
    first, second = rows_of(bank, tmp_path, text)
    assert isinstance(first, Rejected) and first.source.endswith(":2")
    assert "fields but the header names 3" in first.reason and "\n" not in first.reason
    assert isinstance(second, Submission) and second.answer == "140 GB"


@pytest.mark.parametrize("row", ["alice,w06-mon-2,140 GB,", "alice,w06-mon-2,140 GB,,  "])
def test_blank_trailing_fields_lose_nothing_and_are_read(bank, tmp_path, row):
    [sub] = rows_of(bank, tmp_path, HEADER + row + "\n")
    assert isinstance(sub, Submission) and sub.answer == "140 GB"


def test_a_row_with_the_headers_extra_columns_is_read(bank, tmp_path):
    [sub] = rows_of(bank, tmp_path, "student,question,answer,notes\nalice,w06-mon-2,140 GB,late\n")
    assert isinstance(sub, Submission) and sub.answer == "140 GB"


# R13. A quoted field that closes cleanly is a multi-line answer, whatever its lines look like

@pytest.mark.parametrize("last", ['bob says hi, w06-thu-4, x"', 'bob,w06-thu-4,and so on"'])
def test_a_cleanly_closed_multi_line_field_is_one_answer(bank, tmp_path, last):
    text = HEADER + f'alice,w06-mon-2,"fp16 uses 2 bytes\nso 140 GB\n{last}\ncarol,w06-thu-4,GQA\n'
    alice, carol = rows_of(bank, tmp_path, text)
    assert isinstance(alice, Submission) and alice.student == "alice"
    assert alice.answer == f"fp16 uses 2 bytes\nso 140 GB\n{last[:-1]}"
    assert isinstance(carol, Submission) and carol.student == "carol"


def test_a_quote_closing_inside_a_later_field_is_still_a_runaway(bank, tmp_path):
    text = HEADER + 'alice,w06-mon-2,"fp16\nbob,w06-mon-2,140 GB\ncarol,w06-mon-2,he said "hi"\n'
    rows = rows_of(bank, tmp_path, text)
    assert isinstance(rows[0], Rejected) and "unbalanced quote" in rows[0].reason
    assert [r.student for r in rows[1:] if isinstance(r, Submission)] == ["bob", "carol"]


# R14. Names that differ only in case or spaces are the same column or field

@pytest.mark.parametrize("header", ["student,question,answer,Answer", "student,question,answer,ANSWER ",
                                    "Student,question,answer,student", "student,Question,answer,question"])
def test_columns_differing_in_case_or_spaces_are_duplicates(bank, tmp_path, header):
    [row] = rows_of(bank, tmp_path, f"{header}\nann,w06-thu-4,a,b\n")
    assert isinstance(row, Rejected) and row.source.endswith(":1") and "duplicate column" in row.reason


def test_column_names_in_any_case_are_read(bank, tmp_path):
    [sub] = rows_of(bank, tmp_path, " Student ,QUESTION,Answer\nann,w06-thu-4,GQA\n")
    assert isinstance(sub, Submission) and (sub.student, sub.answer) == ("ann", "GQA")


@pytest.mark.parametrize("line", [
    '{"student": "ann", "question": "w06-thu-4", "answer": "a", "answer ": "b"}',
    '{"student": "ann", "question": "w06-thu-4", "answer": "a", "Answer": "b"}',
    '{"student": "ann", " STUDENT": "bob", "question": "w06-thu-4", "answer": "a"}'])
def test_jsonl_fields_differing_in_case_or_spaces_are_duplicates(bank, tmp_path, line):
    [row] = rows_of(bank, tmp_path, line + "\n", "class.jsonl")
    assert isinstance(row, Rejected) and "duplicate field" in row.reason


# R21. Control characters from a class never reach an output as they are

@pytest.mark.parametrize(("student", "visible"), [("\x1b[31mred", "[31mred"), ("bell\x07", "bell"),
                                                 ("bidi\u202eevil", "evil"), ("c1\x9bx", "c1")])
def test_control_characters_in_names_and_answers_reach_no_output(bank, tmp_path, student, visible):
    path = tmp_path / "class.csv"
    path.write_text(HEADER + f"{student},w06-thu-4,GQA \x1b]0;title\x07 groups\n", encoding="utf-8")
    out = tmp_path / "out"
    grade_submissions(bank, FakeJudge, [path], out)
    files = [out / "gradebook.csv", out / "report.html", *(out / "feedback").iterdir()]
    for written in files:
        text = written.read_text(encoding="utf-8")
        assert not any(ch in text for ch in "\x1b\x07\u202e\x9b"), written.name
    assert visible in (out / "gradebook.csv").read_text(encoding="utf-8")  # the readable part stays


# R7. CommonMark headings: every form that names a question starts its answer

@pytest.mark.parametrize("second", [
    "w06-thu-4\n---------",  # setext, level 2
    "w06-thu-4\n===",  # setext, level 1
    "   # w06-thu-4",  # up to three spaces before the #
    " ## w06-thu-4 ##",  # closing #s
    "#w06-thu-4",  # the space forgotten
    "##W06-THU-4",  # …in any case
], ids=["setext-dash", "setext-equals", "indented-3", "closing-hashes", "no-space", "no-space-upper"])
def test_every_heading_form_naming_a_question_starts_its_answer(bank, tmp_path, second):
    rows = rows_of(bank, tmp_path, f"# w06-mon-2\nfp16 is 140 GB\n{second}\nGQA groups heads\n", "ann.md")
    assert [(type(r).__name__, r.question_id, r.answer) for r in rows] == [
        ("Submission", "w06-mon-2", "fp16 is 140 GB"), ("Submission", "w06-thu-4", "GQA groups heads")]


@pytest.mark.parametrize("body", [
    "140 GB\n---\nthen more",  # a rule under a line of the answer
    "140 GB\n===",
    "    # w06-thu-4 indented as code",  # four spaces: code, as README says
    "```\n# w06-thu-4\n```",  # a fenced block
    "#5 is the answer",  # a hash word that names no question
], ids=["rule", "equals-rule", "indented-4", "fenced", "hash-word"])
def test_lines_that_are_no_heading_naming_a_question_stay_in_the_answer(bank, tmp_path, body):
    [row] = rows_of(bank, tmp_path, f"# w06-mon-2\n{body}\n", "ann.md")
    assert isinstance(row, Submission) and row.answer == body.strip()


def test_setext_heading_keeps_the_lines_above_it_in_the_previous_answer(bank, tmp_path):
    rows = rows_of(bank, tmp_path, "# w06-mon-2\nline one\nline two\nw06-thu-4\n---\nGQA\n", "ann.md")
    assert [(r.question_id, r.answer) for r in rows] == [("w06-mon-2", "line one\nline two"),
                                                         ("w06-thu-4", "GQA")]
    assert rows[1].source.endswith("ann.md:4")


# R22. References as typed or pasted: every dash, quotes around deck text, invisible characters

@pytest.mark.parametrize("ref", [
    "w06–mon–2", "w06—mon—2", "w06‐mon‐2", "W06-MON-2",  # en, em dash, hyphen, case
    "w06-\u200bmon-2", "\ufeffw06-mon-2", "w06-mon-2\u200d", "ｗ０６-mon-2",  # ZWSP, BOM, ZWJ, full width
    '"w06-mon-2"', "“w06-mon-2”", "'w06-mon-2'",
    "A 70B model in fp16 needs roughly how much raw memory for weights",
    '"A 70B model in fp16 needs roughly how much raw memory for weights?"',
    "“A 70B model in fp16 needs roughly how much raw memory for weights?”",
])
def test_a_question_reference_as_typed_or_pasted_is_found(bank, tmp_path, ref):
    line = {"student": "ann", "question": ref, "answer": "140 GB"}
    [row] = rows_of(bank, tmp_path, jsonl(line), "class.jsonl")
    assert isinstance(row, Submission) and row.question_id == "w06-mon-2"


@pytest.mark.parametrize("ref", ["MQA vs GQA -- what gets shared, and why does that help memory",
                                 "MQA vs GQA --- what gets shared, and why does that help memory?",
                                 "MQA vs GQA – what gets shared, and why does that help memory?"])
def test_deck_text_with_any_dash_is_found_in_csv_and_markdown(bank, tmp_path, ref):
    [row] = rows_of(bank, tmp_path, HEADER + f'ann,"{ref}",GQA\n')
    assert isinstance(row, Submission) and row.question_id == "w06-thu-4"
    [row] = rows_of(bank, tmp_path, f"# {ref}\nGQA\n", "ann.md")
    assert isinstance(row, Submission) and row.question_id == "w06-thu-4"


@pytest.mark.parametrize("ref", ["w06-mon", "w06-mon-22", "w06 mon 2", '"w06-mon-2', "w06-mon-2x"])
def test_near_misses_stay_unknown(bank, tmp_path, ref):
    [row] = rows_of(bank, tmp_path, jsonl({"student": "ann", "question": ref, "answer": "x"}), "class.jsonl")
    assert isinstance(row, Rejected) and "unknown question" in row.reason


@pytest.mark.parametrize(("written", "graded"), [("\\# w06-thu-4", "# w06-thu-4"),
                                                 ("  \\# of heads = 8", "  # of heads = 8")])
def test_an_escaped_hash_line_stays_in_the_answer_at_any_indent(bank, tmp_path, written, graded):
    [row] = rows_of(bank, tmp_path, f"# w06-mon-2\n140 GB\n{written}\n", "ann.md")
    assert isinstance(row, Submission) and row.answer == f"140 GB\n{graded}"
