"""A marks folder's outputs are replaced whole or not at all, and outputs older than the folder's
results and overrides are made again when `review`, `eval --from` or `calibrate --from` open it
(issue 28, defect 1: a `kill -9` mid-rebuild cut feedback files short, and nothing repaired them)."""

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.edge.test_cli import tutor
from tutor.core.bank import load_bank
from tutor.core.errors import TutorError
from tutor.core.judges.fake import FakeJudge
from tutor.teacher import overrides
from tutor.teacher.batch.command import grade_submissions
from tutor.teacher.batch.outputs import feedback_name, write_marks
from tutor.teacher.overrides import results

QUESTIONS = ("w06-thu-4", "w06-fri-3", "w06-mon-2")
STUDENTS = 40
KILLED_AT = 3 * 20 + 1  # the rebuild stops inside s20's feedback: one of its three answers written

# The rebuild in a real process, made to stop mid-way: the feedback of KILLED_AT answers is
# written, then it says so and waits to be killed.
REBUILD = """
import sys, time
from pathlib import Path
from tutor.core.bank import load_bank
from tutor.teacher.batch import outputs

marker, added, add = Path(sys.argv[2]), [0], outputs.Feedback.add
def slow_add(self, item):
    add(self, item)
    added[0] += 1
    if added[0] == {killed_at}:
        marker.touch()
        time.sleep(60)
outputs.Feedback.add = slow_add
outputs.write_marks(Path(sys.argv[1]), load_bank())
"""


@pytest.fixture
def marks(tmp_path: Path) -> Path:
    """A class graded by the fake judge; its outputs made; then a mark set for s5 on the review
    page, whose rebuild never ran (the process was killed after saving the override)."""
    rows = "".join(f"s{i},{q},\"GQA shares KV heads; 131,072 params; 140 GB (answer {i})\"\n"
                   for i in range(STUDENTS) for q in QUESTIONS)
    (tmp_path / "class.csv").write_text("student,question,answer\n" + rows)
    out = tmp_path / "marks"
    grade_submissions(load_bank(), FakeJudge, [tmp_path / "class.csv"], out)
    row = next(r for r in results(out) if r.who == ("s5", QUESTIONS[0]))
    overrides.append(out, overrides.made_now(row, "ms-k", "mark", old=row.score, new=0.77, reason="fair"))
    return out


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def kill_mid_rebuild(out: Path, tmp_path: Path) -> None:
    marker = tmp_path / "mid-rebuild"
    script = REBUILD.replace("{killed_at}", str(KILLED_AT))
    process = subprocess.Popen([sys.executable, "-c", script, str(out), str(marker)],
                               env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert process.poll() is None and time.monotonic() < deadline, "the rebuild never reached its middle"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL


def assert_every_feedback_file_whole(out: Path) -> None:
    files = sorted((out / "feedback").iterdir())
    assert len(files) == STUDENTS
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# Feedback for "), path
        assert text.count("\n## ") == len(QUESTIONS), path  # all three answers, none cut short


def test_a_rebuild_killed_midway_leaves_every_output_whole_and_the_next_open_rebuilds(marks, tmp_path):
    before = {p.name: p.read_bytes() for p in (marks / "feedback").iterdir()}
    kill_mid_rebuild(marks, tmp_path)
    assert_every_feedback_file_whole(marks)
    # killed while the files were being built aside: feedback/ is still the last complete one
    assert {p.name: p.read_bytes() for p in (marks / "feedback").iterdir()} == before
    assert gradebook(marks)["s5"][QUESTIONS[0]] != "0.770"  # the killed rebuild never got there
    assert len(gradebook(marks)) == STUDENTS
    # opening the folder finds its outputs older than its overrides, says so, and makes them again
    result = tutor("--head", "plain", "eval", "--from", str(marks))
    assert result.returncode == 0, result.stderr
    assert "made them again" in result.stderr and str(marks) in result.stderr
    assert gradebook(marks)["s5"][QUESTIONS[0]] == "0.770"
    feedback = (marks / "feedback" / feedback_name("s5")).read_text()
    assert "Mark changed by \u2068ms-k\u2069: \u2068fair\u2069" in feedback
    assert_every_feedback_file_whole(marks)
    leftovers = [p.name for p in [*marks.iterdir(), *(marks / "feedback").iterdir()]
                 if p.name.endswith(".tmp") or p.name == ".feedback-building"]
    assert leftovers == []  # nothing left half-built
    again = tutor("--head", "plain", "eval", "--from", str(marks))
    assert "made them again" not in again.stderr  # once current, opening changes nothing


def test_the_review_page_rebuilds_outputs_left_out_of_date(marks):
    from tutor.teacher.review import ReviewServer

    assert gradebook(marks)["s5"][QUESTIONS[0]] != "0.770"
    server = ReviewServer(marks, load_bank(), "ms-k")
    server.socket.close()
    assert gradebook(marks)["s5"][QUESTIONS[0]] == "0.770"


def test_calibrate_from_rebuilds_outputs_left_out_of_date(marks):
    from tests.teacher.test_reviewed_labels import identity_head

    identity_head().save(marks.parent / "h.npz")
    result = tutor("--head", str(marks.parent / "h.npz"), "calibrate", "--from", str(marks),
                   "--out", str(marks.parent / "refit.npz"))
    assert "made them again" in result.stderr
    assert "0 answers with reviewed points" in result.stderr  # one mark: too few to refit
    assert gradebook(marks)["s5"][QUESTIONS[0]] == "0.770"


def unchanged_after_failed_rebuild(out: Path) -> None:
    """The rebuild fails with one line naming the file; the override stays saved, and the
    outputs stay whole (the old ones), out of date until a rebuild succeeds."""
    saved = (out / "overrides.jsonl").read_bytes()
    with pytest.raises(TutorError, match=r"cannot write it .*it was left as it was"):
        write_marks(out, load_bank())
    assert (out / "overrides.jsonl").read_bytes() == saved
    assert_every_feedback_file_whole(out)


def test_a_read_only_gradebook_is_left_as_it_was(marks):
    book = (marks / "gradebook.csv").read_bytes()
    (marks / "gradebook.csv").chmod(0o444)
    unchanged_after_failed_rebuild(marks)
    assert (marks / "gradebook.csv").read_bytes() == book


def test_a_read_only_folder_changes_nothing(marks):
    outputs = {p: p.read_bytes() for p in [marks / "gradebook.csv", marks / "report.html",
                                           *(marks / "feedback").iterdir()]}
    marks.chmod(0o555)
    try:
        unchanged_after_failed_rebuild(marks)
    finally:
        marks.chmod(0o755)
    assert {p: p.read_bytes() for p in outputs} == outputs


def test_a_folder_in_a_feedback_files_place_is_named(marks):
    name = feedback_name("s7")
    (marks / "feedback" / name).unlink()
    (marks / "feedback" / name).mkdir()
    with pytest.raises(TutorError, match=rf"{name}: cannot write it \(a folder is in its place\)"):
        write_marks(marks, load_bank())
    (marks / "feedback" / name).rmdir()
    write_marks(marks, load_bank())  # the folder gone, the next rebuild completes
    assert gradebook(marks)["s5"][QUESTIONS[0]] == "0.770"
    assert (marks / "feedback" / name).is_file()


def test_a_failed_rebuild_on_the_review_page_keeps_the_change(marks, tmp_path):
    """A folder in report.html's place: the mark is saved in overrides.jsonl, the page says what
    failed in one line, and the next open rebuilds once the folder is gone."""
    (marks / "report.html").unlink()
    (marks / "report.html").mkdir()
    row = next(r for r in results(marks) if r.student == "s9")
    overrides.append(marks, overrides.made_now(row, "ms-k", "mark", old=row.score, new=0.5, reason="x"))
    with pytest.raises(TutorError, match="report.html: cannot write it"):
        write_marks(marks, load_bank())
    assert len((marks / "overrides.jsonl").read_text().splitlines()) == 2
    (marks / "report.html").rmdir()
    result = tutor("--head", "plain", "eval", "--from", str(marks))
    assert "made them again" in result.stderr and (marks / "report.html").is_file()
