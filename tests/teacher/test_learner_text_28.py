"""Issue 28 (8): learner text (names, answers, evidence, reasons) isolated in report.html
(`<bdi>`, `unicode-bidi: isolate`) and in the feedback files (FSI…PDI, plain text's `<bdi>`),
still escaped, its bidi controls shown as marks; and (12) feedback on a recording says "you said"."""

import csv
import re

from tests.html_page import Page
from tutor.core.judges.fake import FakeJudge
from tutor.teacher.batch.command import grade_submissions
from tutor.teacher.batch.outputs import write_marks
from tutor.teacher.overrides import append, made_now, results

RLO, PDF, FSI, PDI = "\u202e", "\u202c", "\u2068", "\u2069"
HEBREW = "\u05e9\u05dc\u05d5\u05dd"  # strong right-to-left letters: no control, still reorders
ANSWER = f"GQA shares one KV head per group {HEBREW} <b>so</b> the KV cache is smaller {RLO}BG 041{PDF}"
NAME = f"{RLO}ann {HEBREW}"
Q = "w06-thu-4"


def _marks(bank, tmp_path, student=NAME, spoken=False):
    path = tmp_path / "class.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("student", "question", "answer"), (student, Q, ANSWER)])
    out = tmp_path / "marks"
    grade_submissions(bank, lambda: FakeJudge(default=0.9), [path], out)
    row = next(results(out))
    if spoken:
        row = row.model_copy(update={"transcript": True, "audio": str(tmp_path / "ann.wav"),
                                     "audio_seconds": 3.0})
        (out / "results.jsonl").write_text(row.line())
    append(out, made_now(row, f"{RLO}Ms T", "mark", new=0.5, reason=f"{HEBREW} {RLO}fair"))
    write_marks(out, bank)
    return out


def _feedback(out):
    return next((out / "feedback").iterdir()).read_text(encoding="utf-8")


def test_report_html_isolates_names_answers_reviewers_and_reasons(bank, tmp_path):
    html = (_marks(bank, tmp_path) / "report.html").read_text()
    page = Page(html)
    assert "unicode-bidi: isolate" in html and page.scripts == []
    assert not {RLO, PDF} & set(page.text) and "<b>so</b>" in page.text  # escaped, controls as marks
    name = f'<bdi class="name">\ufffdann {HEBREW}</bdi>'
    assert html.count(f"<td>{name}</td>") >= 2  # the lowest answers and the changed marks
    assert re.search(rf"<blockquote><bdi>GQA shares one KV head per group {HEBREW} &lt;b&gt;so", html)
    assert f'<td><bdi class="name">\ufffdMs T</bdi></td><td><bdi>{HEBREW} \ufffdfair</bdi></td>' in html


def test_report_html_cuts_a_long_name_and_keeps_it_whole_in_its_title(bank, tmp_path):
    html = (_marks(bank, tmp_path, student="x" * 10_000) / "report.html").read_text()
    assert "x" * 60 + "…" in Page(html).text and "x" * 61 not in Page(html).text
    assert f'title="{"x" * 10_000}"' in html


def test_feedback_isolates_the_name_the_evidence_the_reviewer_and_the_reason(bank, tmp_path):
    text = _feedback(_marks(bank, tmp_path))
    assert not {RLO, PDF} & set(text)
    assert text.startswith(f"# Feedback for {FSI}\ufffdann {HEBREW}{PDI}\n")
    assert f"you wrote “{FSI}GQA shares one KV head per group {HEBREW} \\<b\\>so" in text
    assert f"- Mark changed by {FSI}\ufffdMs T{PDI}: {FSI}{HEBREW} \ufffdfair{PDI}" in text
    assert text.count(FSI) == text.count(PDI) >= 4
    for line in text.splitlines():  # each isolate closes on its own line
        assert line.count(FSI) == line.count(PDI), line


def test_feedback_on_a_recording_says_you_said_and_isolates_the_transcript(bank, tmp_path):
    text = _feedback(_marks(bank, tmp_path, spoken=True))
    assert "you said “" in text and "you wrote" not in text
    assert f"Your recording {FSI}ann.wav{PDI} (3 s) was heard as: {FSI}GQA shares" in text
