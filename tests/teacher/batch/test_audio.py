"""Recorded answers in `tutor grade`, with a fake recogniser: a folder per student, or an
`audio` column; the transcript is the answer, cached by the recording's SHA-256; a silent or
unreadable recording is a problem row, never a silent zero."""

import csv
import json

import pytest

from tests.html_page import Page
from tests.recordings import wav_bytes, write_wav
from tutor.core.judges.fake import FakeJudge
from tutor.core.speech.transcriber import FakeTranscriber
from tutor.teacher.batch import audio
from tutor.teacher.batch.audio import Transcripts
from tutor.teacher.batch.command import grade_submissions
from tutor.teacher.batch.inputs import Inputs, Rejected, Submission
from tutor.teacher.batch.outputs import feedback_name

pytestmark = pytest.mark.speech

TERMS = ("KV cache", "GQA")
SAID = {"ann-thu-4.m4a": "In G Q A each group of query heads shares one key value head.",
        "bob-thu-4.wav": "The KV cash of a seventy B model shrinks with fewer heads."}


HEARD = {wav_bytes(tag): text for tag, text in SAID.items()}


def said(recording) -> str:
    """What the fake recogniser hears: chosen by the file's content (`wav_bytes(tag)` for a
    tag of SAID; any other sound is silence), as a real one would."""
    return HEARD.get(recording.read_bytes(), "")


def recordings(tmp_path):
    """ann/ and bob/, one recording per question, named by its id; bob's second is silent."""
    folder = tmp_path / "submissions"
    for student, name, content in [("ann", "w06-thu-4.m4a", "ann-thu-4.m4a"),
                                   ("bob", "w06-thu-4.wav", "bob-thu-4.wav"),
                                   ("bob", "w06-mon-2.ogg", "silence")]:
        write_wav(folder / student / name, content)
    return folder


def fake_transcripts(folder=None, terms=TERMS):
    recogniser = FakeTranscriber(said, seconds=4.25)
    return Transcripts(folder, terms, load=lambda: recogniser), recogniser


def test_a_folder_per_student_of_recordings_named_by_question(bank, tmp_path):
    folder = recordings(tmp_path)
    transcripts, _ = fake_transcripts()
    inputs = Inputs(bank, [folder], transcripts=transcripts)
    subs = list(inputs.submissions())
    assert [(s.student, s.question_id, s.answer) for s in subs] == [
        ("ann", "w06-thu-4", "In GQA each group of query heads shares one key value head."),
        ("bob", "w06-mon-2", ""),
        ("bob", "w06-thu-4", "The KV cache of a 70B model shrinks with fewer heads.")]
    assert subs[0].audio == str(folder / "ann" / "w06-thu-4.m4a") and subs[0].audio_seconds == 4.25
    assert inputs.count == 3 and inputs.rejected == []
    [silent] = inputs.unheard  # no answer, and why: listed ungraded, never dropped
    assert silent == subs[1] and silent.source == str(folder / "bob" / "w06-mon-2.ogg")
    assert silent.unheard == "no speech heard"


def test_a_recording_named_by_no_question_is_reported(bank, tmp_path):
    write_wav(tmp_path / "ann" / "question-four.wav", "ann-thu-4.m4a")
    inputs = Inputs(bank, [tmp_path], transcripts=fake_transcripts()[0])
    [row] = inputs.rejected
    assert "unknown question 'question-four'" in row.reason
    assert "name each recording by its question id" in row.reason


def test_csv_and_jsonl_rows_with_an_audio_column(bank, tmp_path):
    write_wav(tmp_path / "audio" / "a.m4a", "ann-thu-4.m4a")
    with (tmp_path / "class.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([["student", "question", "audio"], ["ann", "w06-thu-4", "audio/a.m4a"]])
    (tmp_path / "class.jsonl").write_text("\n".join(json.dumps(row) for row in [
        {"student": "cat", "question": "w06-thu-4", "audio": "audio/a.m4a", "answer": "typed too"},
        {"student": "dan", "question": "w06-thu-4", "audio": 3},
        {"student": "eve", "question": "w06-thu-4", "answer": "MQA shares one KV head."},
        {"student": "fay", "question": "w06-thu-4", "audio": "audio/missing.wav"}]) + "\n")
    inputs = Inputs(bank, [tmp_path / "class.csv", tmp_path / "class.jsonl"],
                    transcripts=fake_transcripts()[0])
    assert list(inputs.submissions()) == [
        Submission(f"{tmp_path}/class.csv:2", "ann", "w06-thu-4",
                   "In GQA each group of query heads shares one key value head.",
                   audio=str(tmp_path / "audio" / "a.m4a"), audio_seconds=4.25),
        Submission(f"{tmp_path}/class.jsonl:3", "eve", "w06-thu-4", "MQA shares one KV head."),
        Submission(f"{tmp_path}/class.jsonl:4", "fay", "w06-thu-4", "",
                   audio=str(tmp_path / "audio" / "missing.wav"),
                   unheard="no such file")]
    reasons = {row.student: row.reason for row in inputs.rejected}
    assert reasons == {"cat": "give either 'answer' or 'audio', not both",
                       "dan": "field 'audio' must be a file path, not a number"}


def test_transcripts_are_cached_by_the_recordings_hash(bank, tmp_path):
    folder, cache = recordings(tmp_path), tmp_path / "marks" / "transcripts"
    first, recogniser = fake_transcripts(cache)
    Inputs(bank, [folder], transcripts=first)
    assert len(recogniser.calls) == 3
    stored = {json.loads(p.read_text())["text"] for p in cache.glob("*.json")}
    assert stored == set(SAID.values())  # what was heard; the written form is made on reading
    again, recogniser = fake_transcripts(cache)
    subs = list(Inputs(bank, [folder], transcripts=again).submissions())
    assert recogniser.calls == [(folder / "bob" / "w06-mon-2.ogg", TERMS)]  # only the silent one again
    assert subs[2].answer == "The KV cache of a 70B model shrinks with fewer heads."
    other_terms, recogniser = fake_transcripts(cache, terms=("GQA",))
    Inputs(bank, [folder], transcripts=other_terms)
    assert len(recogniser.calls) == 3  # another vocabulary: heard again


def test_the_same_recording_twice_is_transcribed_once(bank, tmp_path):
    for student in ("ann", "bob"):
        write_wav(tmp_path / student / "w06-thu-4.wav", "ann-thu-4.m4a")
    transcripts, recogniser = fake_transcripts()
    assert len(list(Inputs(bank, [tmp_path], transcripts=transcripts).submissions())) == 2
    assert len(recogniser.calls) == 1


def test_a_superseded_recording_is_not_transcribed(bank, tmp_path):
    write_wav(tmp_path / "ann" / "w06-thu-4.wav", "ann-thu-4.m4a")
    (tmp_path / "zz.csv").write_text("student,question,answer\nann,w06-thu-4,MQA shares one KV head.\n")
    transcripts, recogniser = fake_transcripts()
    inputs = Inputs(bank, [tmp_path / "ann", tmp_path / "zz.csv"], transcripts=transcripts)
    assert [s.answer for s in inputs.submissions()] == ["MQA shares one KV head."]
    assert recogniser.calls == []
    assert isinstance(inputs.rejected[0], Rejected) and "superseded" in inputs.rejected[0].reason


def test_grade_marks_recorded_answers_and_reports_silent_ones(bank, tmp_path, monkeypatch):
    folder, out = recordings(tmp_path), tmp_path / "marks"
    recogniser = FakeTranscriber(said, seconds=4.25)
    monkeypatch.setattr(audio.speech, "local_transcriber", lambda: recogniser)
    summary = grade_submissions(bank, lambda: FakeJudge(default=0.9), [folder], out, speech_terms=TERMS)
    assert (summary.graded, summary.failed, summary.unreadable) == (2, 0, 1)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [(r["student"], r["audio"], r["audio_seconds"], r["transcript"], r["status"]) for r in rows] == [
        ("ann", str(folder / "ann" / "w06-thu-4.m4a"), 4.25, True, "graded"),
        ("bob", str(folder / "bob" / "w06-mon-2.ogg"), None, True, "ungraded"),
        ("bob", str(folder / "bob" / "w06-thu-4.wav"), 4.25, True, "graded")]
    # the course's terms respell what was misheard; numbers are written out
    assert rows[2]["answer"] == "The KV cache of a 70B model shrinks with fewer heads."
    assert recogniser.calls[0][1] == TERMS  # and bias the recogniser
    feedback = (out / "feedback" / feedback_name("bob")).read_text().replace("\\", "")  # Markdown escapes
    assert ("Your recording \u2068w06-thu-4.wav\u2069 (4 s) was heard as: \u2068The KV cache of a 70B model"
            in feedback)  # learner text isolated (FSI…PDI)
    assert "recording " + str(folder / "ann" / "w06-thu-4.m4a") + " (4 s), transcribed:" in Page(
        (out / "report.html").read_text()).text
    problems = (out / "problems.csv").read_text()
    assert "w06-mon-2.ogg" in problems and "no speech heard" in problems
    assert len(list((out / "transcripts").glob("*.json"))) == 2
    calls = len(recogniser.calls)
    again = grade_submissions(bank, lambda: FakeJudge(default=0.9), [folder], out, speech_terms=TERMS)
    assert (again.graded, again.skipped) == (0, 2)
    assert len(recogniser.calls) == calls + 1  # only the silent recording is listened to again


def test_typed_rows_carry_no_audio_fields(bank, tmp_path):
    (tmp_path / "class.csv").write_text("student,question,answer\nann,w06-thu-4,MQA shares one KV head.\n")
    grade_submissions(bank, lambda: FakeJudge(default=0.9), [tmp_path / "class.csv"], tmp_path / "marks")
    row = json.loads((tmp_path / "marks" / "results.jsonl").read_text())
    assert not {"audio", "audio_seconds", "transcript"} & set(row)
