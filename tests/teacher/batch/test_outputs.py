import csv
import io

from tests.html_page import Page
from tutor.core.decide import PlainHead
from tutor.core.judges.fake import FakeJudge
from tutor.teacher.batch.inputs import Rejected, Submission
from tutor.teacher.batch.outputs import write_all
from tutor.teacher.batch.run import BatchRun

SCRIPT = "<script>alert('x')</script> GQA shares KV heads"


def graded_rows(bank, out):
    subs = [Submission("in:1", "ann", "w06-thu-4", SCRIPT),
            Submission("in:2", "ann", "w06-fri-3", "131,072 params"),
            Submission("in:3", "<b>bob</b>", "w06-thu-4", ""),
            Submission("in:4", "<b>bob</b>", "w06-fri-3", "65,536 params")]
    run = BatchRun(bank, FakeJudge(), out, head=PlainHead())
    list(run.grade_all(run.pending(subs, False)))
    run.finalize(subs)
    return list(run.results())


def test_gradebook_totals_equal_the_sum_of_results(bank, tmp_path):
    rows = graded_rows(bank, tmp_path)
    write_all(tmp_path, bank, rows, [])
    with (tmp_path / "gradebook.csv").open() as handle:
        book = {r["student"]: r for r in csv.DictReader(handle)}
    for student, line in book.items():
        expected = sum(r.score for r in rows if r.student == student)
        assert float(line["total"]) == round(expected, 3)
    assert list(book["ann"]) == ["student", "w06-thu-4", "w06-fri-3", "total", "status", "needs review"]
    flagged = {r.who for r in rows if r.grade.review}
    for student, line in book.items():
        assert set(line["needs review"].split()) == {q for s, q in flagged if s == student}


def test_report_escapes_student_text_and_needs_no_network(bank, tmp_path):
    write_all(tmp_path, bank, graded_rows(bank, tmp_path), [])
    page = (tmp_path / "report.html").read_text()
    shown = Page(page)
    assert shown.scripts == [] and "<script>alert(" in shown.text  # student text shown, never run
    assert "<b>bob</b>" in shown.text  # shown as typed, not as markup
    assert "http://" not in page and "https://" not in page
    assert "Most-missed key points" in page and "<svg" in page


def test_feedback_per_student_and_problems(bank, tmp_path):
    rows = graded_rows(bank, tmp_path)
    write_all(tmp_path, bank, rows, [Rejected("class.csv:9", "cy", "w06-zzz", "unknown question")])
    names = sorted(p.name for p in (tmp_path / "feedback").iterdir())
    assert [n.rsplit("-", 1)[0] for n in names] == ["ann", "b_bob_b"]
    ann = (tmp_path / "feedback" / names[0]).read_text()
    assert "## w06-thu-4" in ann and "## w06-fri-3" in ann
    assert "re-read explainer §5.2" in ann  # the section of a question with points missing
    # the terminal's wording, Markdown-escaped: the number found, and the missing point
    assert "- ✓ trainable parameters added by rank-16 LoRA on a 4096 × 4096 matrix: found 131,072" in ann
    assert "- ✗ missing: LoRA adds r × \\(d + k\\) trainable parameters" in ann
    problems = (tmp_path / "problems.csv").read_text()
    rows = list(csv.reader(io.StringIO(problems)))
    assert ["class.csv:9", "cy", "w06-zzz", "unknown question"] in rows
    assert ["in:3", "<b>bob</b>", "w06-thu-4", "empty answer"] in rows


def test_spreadsheet_formulas_in_student_text_are_neutralised(bank, tmp_path):
    subs = [Submission("in:1", "=HYPERLINK(\"http://x\")", "w06-thu-4", "GQA shares KV heads"),
            Submission("in:2", "@SUM(A1)", "w06-thu-4", "")]
    run = BatchRun(bank, FakeJudge(), tmp_path, head=PlainHead())
    list(run.grade_all(run.pending(subs, False)))
    rejected = [Rejected("in:3", "+1+1", "-2", "unknown question")]
    run.finalize(subs)
    write_all(tmp_path, bank, run.results(), rejected)
    for name in ("gradebook.csv", "problems.csv"):
        with (tmp_path / name).open() as handle:
            cells = [c for row in csv.reader(handle) for c in row]
        assert not any(c[:1] in "=+-@" and c for c in cells), (name, cells)
    book = (tmp_path / "gradebook.csv").read_text()
    assert "'=HYPERLINK" in book and "'@SUM(A1)" in book
    assert "'+1+1" in (tmp_path / "problems.csv").read_text()


def test_terminal_and_markdown_feedback_use_one_wording(bank):
    from rich.text import Text

    from tutor.core.feedback import feedback_lines
    from tutor.core.grader import grade
    from tutor.teacher.batch.outputs import _feedback_block
    from tutor.teacher.records import GradedAnswer

    result = grade(bank.get("w06-fri-3"), "B is 4096 × 16 (*65,536*) and A 16 × 4096: 131,072 params",
                   FakeJudge(default=0.3))
    marks = ("✓", "✗")
    terminal = [Text.from_markup(line).plain for line in feedback_lines(result)]
    block = _feedback_block(bank, GradedAnswer.of("k", "ann", "in:1", "131,072 params", result), result)
    markdown = [line[2:].replace("\\", "") for line in block]
    assert [t for t in terminal if t.startswith(marks)] == [m for m in markdown if m.startswith(marks)]
    assert any(t.startswith("✓") for t in terminal) and any(t.startswith("✗") for t in terminal)


def test_outputs_show_a_reviewer_s_changes_and_stale_overrides(bank, tmp_path):
    from tutor.teacher.overrides import append, made_now

    rows = graded_rows(bank, tmp_path)
    ann = next(r for r in rows if r.who == ("ann", "w06-thu-4"))
    append(tmp_path, made_now(ann, "<i>Ms T</i>", "mark", old=ann.score, new=0.9,
                              reason="<script>alert(1)</script>"))
    before, gone = (ann.model_copy(update=change) for change in ({"answer": "what she wrote before"},
                                                                 {"student": "zed"}))
    append(tmp_path, made_now(before, "Mr O", "accept"))
    append(tmp_path, made_now(gone, "Mr O", "mark", new=0.1, reason="gone"))
    marks = write_all(tmp_path, bank, rows, [])
    assert (marks.changed, marks.stale, marks.damaged) == (1, 2, [])
    with (tmp_path / "gradebook.csv").open() as handle:
        book = {r["student"]: r for r in csv.DictReader(handle)}
    assert list(book["ann"])[-3:] == ["needs review", "changed by reviewer", "stale overrides"]
    assert (book["ann"]["w06-thu-4"], book["ann"]["changed by reviewer"]) == ("0.900", "w06-thu-4")
    assert book["ann"]["stale overrides"] == "w06-thu-4" and book["<b>bob</b>"]["changed by reviewer"] == ""
    page = (tmp_path / "report.html").read_text()
    assert "Marks changed by a reviewer (1)" in page and "Stale overrides (2)" in page
    shown = Page(page)
    assert "<i>Ms T</i>" in shown.text and "<script>alert(1)" in shown.text and shown.scripts == []
    assert "the answer changed since the review" in page and "answer no longer in results" in page
