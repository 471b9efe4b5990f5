"""Issue 28, batch side: nested recording folders (2)."""

import pytest

from tests.recordings import write_wav
from tests.teacher.batch.test_audio import fake_transcripts
from tutor.teacher.batch.inputs import Inputs

pytestmark = pytest.mark.speech

SAID = "In G Q A each group of query heads shares one key value head."


def _recordings(root, paths):
    for relative in paths:
        write_wav(root / relative, "ann-thu-4.m4a")  # what the fake recogniser hears as SAID
    return root


def _read(bank, targets):
    transcripts, _ = fake_transcripts()
    inputs = Inputs(bank, targets, transcripts=transcripts)
    return inputs, [(s.student, s.question_id) for s in inputs.submissions()]


# 2. The student is the first folder under the submissions folder

@pytest.mark.parametrize("layout", [("{s}/week6/w06-thu-4.wav",), ("{s}/2024/week6/w06-thu-4.wav",),
                                    ("{s}/attempt 1/w06-thu-4.m4a", "{s}/attempt 1/w06-mon-2.ogg")])
def test_nested_recording_folders_keep_each_student_apart(bank, tmp_path, layout):
    root = _recordings(tmp_path / "subs", [p.format(s=s) for s in ("ann", "bob") for p in layout])
    inputs, graded = _read(bank, [root])
    assert inputs.rejected == []
    assert sorted(graded) == sorted((s, q) for s in ("ann", "bob")
                                    for q in {"w06-thu-4", "w06-mon-2"} if any(q in p for p in layout))


def test_a_student_folder_named_alone_is_that_student(bank, tmp_path):
    root = _recordings(tmp_path / "subs", ["ann/w06-thu-4.wav"])
    inputs, graded = _read(bank, [root / "ann"])
    assert graded == [("ann", "w06-thu-4")] and inputs.rejected == []


def test_one_question_in_two_subfolders_of_a_student_is_refused_not_guessed(bank, tmp_path):
    root = _recordings(tmp_path / "subs", ["ann/week6/w06-thu-4.wav", "ann/week7/w06-thu-4.wav",
                                           "bob/week6/w06-thu-4.wav"])
    inputs, graded = _read(bank, [root])
    assert graded == [("bob", "w06-thu-4")]
    assert [(r.student, r.question) for r in inputs.rejected] == [("ann", "w06-thu-4")] * 2
    assert all("2 folders (ann/week6, ann/week7): keep one" in r.reason for r in inputs.rejected)
    assert not any("superseded" in r.reason for r in inputs.rejected)


def test_a_recording_beside_the_student_folders_is_refused(bank, tmp_path):
    root = _recordings(tmp_path / "subs", ["ann/week6/w06-thu-4.wav", "w06-thu-4.wav"])
    inputs, graded = _read(bank, [root])
    assert graded == [("ann", "w06-thu-4")]
    [refused] = inputs.rejected
    assert refused.source == str(root / "w06-thu-4.wav") and "names no student" in refused.reason
