"""Issue 28 (11), the batch side: long and broken recordings."""

import pytest

from tests.recordings import write_wav
from tests.teacher.batch.test_audio import said
from tutor.core.judges.fake import FakeJudge
from tutor.core.speech.transcriber import FakeTranscriber
from tutor.teacher.batch import audio
from tutor.teacher.batch.command import grade_submissions

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
