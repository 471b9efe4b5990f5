"""Issue 28 (11), the batch side: long and broken recordings."""

import csv
import json

import pytest

from tests.edge.test_cli import tutor
from tests.html_page import Page
from tests.recordings import write_wav
from tests.teacher.batch.test_audio import said
from tutor.core.judges.fake import FakeJudge
from tutor.core.speech.transcriber import FakeTranscriber
from tutor.teacher.batch import audio
from tutor.teacher.batch.command import Summary, grade_submissions
from tutor.teacher.batch.outputs import feedback_name, write_marks

pytestmark = pytest.mark.speech


class Models:
    """What was built, in order, and what stderr held when the judge was built."""

    def __init__(self, capsys):
        self.capsys, self.built, self.said_before_judge = capsys, [], ""

    def judge(self):
        self.built.append("judge")
        self.said_before_judge = self.capsys.readouterr().err
        return FakeJudge(default=0.9)

    def transcriber(self):
        self.built.append("speech")
        return FakeTranscriber(said, seconds=4.25)


@pytest.fixture
def models(monkeypatch, capsys):
    models = Models(capsys)
    monkeypatch.setattr(audio.speech, "local_transcriber", models.transcriber)
    return models


# 1. A recording is checked before any model loads

def test_bad_recordings_are_refused_before_the_speech_model_and_the_judge_load(bank, tmp_path, models):
    folder = tmp_path / "subs"
    (folder / "ann").mkdir(parents=True)
    (folder / "ann" / "w06-thu-4.wav").write_bytes(b"")
    (folder / "ann" / "w06-mon-2.m4a").write_text("not audio")
    write_wav(folder / "bob" / "w06-thu-4.wav", "ann-thu-4.m4a")
    grade_submissions(bank, models.judge, [folder], tmp_path / "out")
    assert models.built == ["speech", "judge"]
    lines = models.said_before_judge.splitlines()
    assert any(str(folder / "ann" / "w06-thu-4.wav") in line and "empty (0 bytes)" in line for line in lines)
    assert any(str(folder / "ann" / "w06-mon-2.m4a") in line and "not a readable recording" in line
               for line in lines)


def test_no_speech_model_loads_for_a_class_of_bad_recordings(bank, tmp_path, models):
    folder = tmp_path / "subs"
    (folder / "ann").mkdir(parents=True)
    (folder / "ann" / "w06-thu-4.wav").write_bytes(b"")
    grade_submissions(bank, models.judge, [folder], tmp_path / "out")
    assert "speech" not in models.built


# 2. A long recording is transcribed as far as it is graded, and the batch says what was cut

LONG = " ".join(f"GQA shares one key value head per group, point {n}." for n in range(150))  # 1,500 words


def test_a_long_recording_stops_at_the_graded_words_and_says_so(bank, tmp_path, monkeypatch, capsys):
    recording = write_wav(tmp_path / "subs" / "ann" / "w06-thu-4.m4a")
    recogniser = FakeTranscriber(lambda audio: LONG, seconds=662.0, segment_words=50)
    monkeypatch.setattr(audio.speech, "local_transcriber", lambda: recogniser)
    grade_submissions(bank, lambda: FakeJudge(default=0.9), [tmp_path / "subs"], tmp_path / "out")
    assert recogniser.segments_read == 8  # of 30: the first 400 words, then no more
    assert (f"tutor: recording {recording}: graded the first 350 words (2:57 of 11:02); the rest was not "
            "transcribed") in capsys.readouterr().err.splitlines()
    feedback = next((tmp_path / "out" / "feedback").glob("ann-*.md")).read_text()
    assert "cut to its first 350 words for grading" in feedback
    again = FakeTranscriber(lambda audio: LONG, seconds=662.0, segment_words=50)
    monkeypatch.setattr(audio.speech, "local_transcriber", lambda: again)
    grade_submissions(bank, lambda: FakeJudge(default=0.9), [tmp_path / "subs"], tmp_path / "out")
    assert again.calls == []  # from the transcript cache, which remembers the cut
    assert "graded the first 350 words (2:57 of 11:02)" in capsys.readouterr().err


# 5. `audio` paths stay inside the submissions folder unless --allow-outside-audio

HEARD = "ann-thu-4.m4a"  # a recording the fake recogniser hears (test_audio.SAID)


def _neighbours(tmp_path):
    """subs/class.jsonl, whose rows point inside, outside, through links, with \\ and a NUL."""
    write_wav(tmp_path / "outside.wav", HEARD)
    subs = tmp_path / "subs"
    write_wav(subs / "audio" / "ann.wav", HEARD)
    (subs / "audio" / "link.wav").symlink_to(tmp_path / "outside.wav")
    (subs / "audio" / "inner.wav").symlink_to(subs / "audio" / "ann.wav")
    rows = {"ann": "audio/ann.wav", "bob": "../outside.wav", "cat": str(tmp_path / "outside.wav"),
            "dan": "audio/link.wav", "eve": "audio\\ann.wav", "fay": "audio/ann\u0000.wav",
            "gus": "audio/../audio/inner.wav"}
    (subs / "class.jsonl").write_text("".join(
        json.dumps({"student": s, "question": "w06-thu-4", "audio": a}) + "\n" for s, a in rows.items()))
    return subs


def students(out):
    """The students in results.jsonl, in order."""
    return [json.loads(line)["student"] for line in (out / "results.jsonl").read_text().splitlines()]


def _grade(bank, tmp_path, targets, monkeypatch, **options):
    monkeypatch.setattr(audio.speech, "local_transcriber", lambda: FakeTranscriber(said))
    return grade_submissions(bank, lambda: FakeJudge(default=0.9), targets, tmp_path / "out", **options)


def test_audio_paths_leading_outside_the_submissions_folder_are_refused(bank, tmp_path, monkeypatch, capsys):
    subs = _neighbours(tmp_path)
    _grade(bank, tmp_path, [subs / "class.jsonl"], monkeypatch)
    graded = students(tmp_path / "out")
    assert graded == ["ann", "gus"]  # the batch goes on; a link inside the folder is fine
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("tutor: skipped")]
    source = f"tutor: skipped {subs / 'class.jsonl'}"
    assert lines == [
        f"{source}:2: field 'audio' leads outside the submissions folder {subs} (../outside.wav): keep "
        "recordings inside it (or pass --allow-outside-audio)",
        f"{source}:3: field 'audio' is an absolute path ({tmp_path / 'outside.wav'}): give it relative to "
        f"{subs}, inside the submissions folder (or pass --allow-outside-audio)",
        f"{source}:4: field 'audio' is a link to a file outside the submissions folder {subs} "
        "(audio/link.wav): copy the recording in (or pass --allow-outside-audio)",
        f"{source}:5: field 'audio' holds a backslash (audio\\ann.wav): write the path with / "
        "(audio/ann.wav)",
        f"{source}:6: field 'audio' holds a NUL character: not a file path"]
    problems = (tmp_path / "out" / "problems.csv").read_text()
    assert problems.count("field 'audio'") == 5


def test_allow_outside_audio_reads_them(bank, tmp_path, monkeypatch):
    subs = _neighbours(tmp_path)
    _grade(bank, tmp_path, [subs / "class.jsonl"], monkeypatch, outside_audio=True)
    graded = students(tmp_path / "out")
    assert graded == ["ann", "bob", "cat", "dan", "gus"]  # a backslash or a NUL is never a path


def test_the_submissions_folder_is_the_folder_named_not_the_class_files(bank, tmp_path, monkeypatch):
    """A CSV in a subfolder of the folder given may reach the recordings beside it (the folder's
    own recordings are read as a folder per student too: audio/ann.wav names no question)."""
    write_wav(tmp_path / "subs" / "audio" / "ann.wav", HEARD)
    (tmp_path / "subs" / "lists").mkdir()
    (tmp_path / "subs" / "lists" / "class.csv").write_text(
        "student,question,audio\nann,w06-thu-4,../audio/ann.wav\nbob,w06-thu-4,../../outside.wav\n")
    _grade(bank, tmp_path, [tmp_path / "subs"], monkeypatch)
    rows = (tmp_path / "out" / "results.jsonl").read_text().splitlines()
    assert [json.loads(line)["student"] for line in rows] == ["ann"]
    assert f"leads outside the submissions folder {tmp_path / 'subs'} (../../outside.wav)" in (
        tmp_path / "out" / "problems.csv").read_text()


def test_a_linked_recording_in_a_student_folder_is_kept_inside_too(bank, tmp_path, monkeypatch, capsys):
    write_wav(tmp_path / "outside.wav", HEARD)
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    (tmp_path / "subs" / "ann" / "w06-thu-4.wav").symlink_to(tmp_path / "outside.wav")
    _grade(bank, tmp_path, [tmp_path / "subs"], monkeypatch)
    assert (tmp_path / "out" / "results.jsonl").read_text() == ""
    assert (f"tutor: skipped {tmp_path / 'subs' / 'ann' / 'w06-thu-4.wav'}: a link to a file outside the "
            f"submissions folder {tmp_path / 'subs'}") in capsys.readouterr().err
    _grade(bank, tmp_path, [tmp_path / "subs"], monkeypatch, outside_audio=True)
    assert json.loads((tmp_path / "out" / "results.jsonl").read_text())["student"] == "ann"


def test_the_command_takes_allow_outside_audio(bank, tmp_path, monkeypatch):
    subs = _neighbours(tmp_path)
    monkeypatch.setattr(audio.speech, "local_transcriber", lambda: FakeTranscriber(said))
    refused = tutor("--backend", "fake", "grade", str(subs / "class.jsonl"), "--out", str(tmp_path / "a"))
    allowed = tutor("--backend", "fake", "grade", str(subs / "class.jsonl"), "--out", str(tmp_path / "b"),
                    "--allow-outside-audio")
    assert refused.stderr.count("(or pass --allow-outside-audio)") == 3
    assert "outside the submissions folder" not in allowed.stderr
    assert len((tmp_path / "b" / "results.jsonl").read_text().splitlines()) == 5


# 3. Students whose recordings were all unreadable are listed ungraded, with the reason

def _class_with_bad_recordings(folder):
    """ann: two bad recordings; bob: a good one; cat: a good one and a silent one."""
    (folder / "ann").mkdir(parents=True)
    (folder / "ann" / "w06-thu-4.wav").write_bytes(b"")
    (folder / "ann" / "w06-mon-2.m4a").write_text("not audio")
    write_wav(folder / "bob" / "w06-thu-4.wav", HEARD)
    write_wav(folder / "cat" / "w06-thu-4.wav", HEARD)
    write_wav(folder / "cat" / "w06-mon-2.ogg", "silence")
    return folder


def test_a_student_whose_recordings_were_all_unreadable_is_listed_ungraded(bank, tmp_path, models):
    folder, out = _class_with_bad_recordings(tmp_path / "subs"), tmp_path / "out"
    summary = grade_submissions(bank, models.judge, [folder], out)
    assert (summary.graded, summary.unreadable, summary.failed) == (2, 3, 0)
    for _ in range(2):  # as graded, and as made again from the folder alone (after a review)
        book = {row["student"]: row for row in csv.DictReader((out / "gradebook.csv").open())}
        assert sorted(book) == ["ann", "bob", "cat"]
        assert (book["ann"]["total"], book["ann"]["status"]) == ("", "ungraded")
        assert (book["cat"]["status"], book["bob"]["status"]) == ("1 ungraded", "graded")
        feedback = (out / "feedback" / feedback_name("ann")).read_text()
        assert ("Could not grade: recording w06-thu-4.wav: the file is empty \\(0 bytes\\), not a recording"
                in feedback)
        assert "Could not grade: recording w06-mon-2.m4a: not a readable recording" in feedback
        assert "3 could not be graded" in Page((out / "report.html").read_text()).text
        write_marks(out, bank)
    problems = list(csv.DictReader((out / "problems.csv").open()))
    assert [(p["student"], p["question"]) for p in problems] == [("ann", "w06-mon-2"), ("ann", "w06-thu-4"),
                                                                 ("cat", "w06-mon-2")]
    assert (f"tutor: ungraded {folder / 'ann' / 'w06-thu-4.wav'}: the file is empty (0 bytes), not a "
            "recording") in models.said_before_judge.splitlines()
    again = grade_submissions(bank, models.judge, [folder], out)  # nothing new: done before
    assert (again.graded, again.skipped, again.unreadable) == (0, 2, 3)


def test_a_class_of_only_unreadable_recordings_loads_no_model_and_lists_every_student(bank, tmp_path, models):
    folder, out = tmp_path / "subs", tmp_path / "out"
    (folder / "ann").mkdir(parents=True)
    (folder / "ann" / "w06-thu-4.wav").write_bytes(b"")
    (folder / "bob").mkdir()
    (folder / "bob" / "w06-thu-4.m4a").write_text("not audio")
    summary = grade_submissions(bank, models.judge, [folder], out)
    assert models.built == []  # neither the speech model nor the judge
    assert (summary.graded, summary.unreadable) == (0, 2)
    book = list(csv.DictReader((out / "gradebook.csv").open()))
    assert [(row["student"], row["status"]) for row in book] == [("ann", "ungraded"), ("bob", "ungraded")]
    assert [json.loads(line)["status"] for line in (out / "results.jsonl").read_text().splitlines()] == [
        "ungraded", "ungraded"]


# 4. The summary says what happened

@pytest.mark.parametrize(("counts", "said"), [
    ((0, 0, 0), "graded 5, skipped 1 (done before), 2 s"),
    ((1, 1, 1), "graded 5, skipped 1 (done before), 1 recording unreadable or silent, grading failed for 1 "
                "answer, 1 row set aside (problems.csv), 2 s"),
    ((8, 2, 3), "graded 5, skipped 1 (done before), 8 recordings unreadable or silent, grading failed for 2 "
                "answers, 3 rows set aside (problems.csv), 2 s")])
def test_the_summary_words_each_problem_as_what_happened(tmp_path, counts, said):
    unreadable, failed, set_aside = counts
    line = Summary(5, failed, 1, 5, 2.0, unreadable, set_aside).line(tmp_path)
    assert line.startswith(said + ", 150.0 answers/min → ")
    assert bool(Summary(5, failed, 1, 5, 2.0, unreadable, set_aside).problems()) == any(counts)


def test_tutor_grade_says_recordings_were_unreadable_not_failed(tmp_path, monkeypatch):
    folder = _class_with_bad_recordings(tmp_path / "subs")
    monkeypatch.setattr(audio.speech, "local_transcriber", lambda: FakeTranscriber(said))
    result = tutor("--backend", "fake", "grade", str(folder), "--out", str(tmp_path / "out"))
    assert result.returncode == 1  # something was reported
    assert "graded 2, skipped 0 (done before), 3 recordings unreadable or silent, " in result.stdout
    assert "failed" not in result.stdout
