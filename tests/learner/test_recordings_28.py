"""Issue 28 (11), the learner's side: a recording is checked before any model loads."""

from pathlib import Path

import pytest

from tests.learner.test_voice import drill_by_voice, run
from tests.recordings import write_wav
from tutor.core.judges.fake import FakeJudge
from tutor.core.judges.registry import ReliableJudge
from tutor.core.speech.transcriber import FakeTranscriber
from tutor.edge.app import State
from tutor.learner import voice

pytestmark = pytest.mark.speech


@pytest.fixture
def loaded(monkeypatch) -> list[str]:
    """Which models were built (the judge, the speech model), in order."""
    built: list[str] = []

    def judge(state: State) -> ReliableJudge:
        built.append("judge")
        return ReliableJudge(FakeJudge(default=0.9))

    def transcriber() -> FakeTranscriber:
        built.append("speech")
        return FakeTranscriber({"answer.wav": "MQA keeps one key value head."})

    monkeypatch.setattr(State, "judge", judge)
    monkeypatch.setattr(voice, "check_speech", lambda: None)
    monkeypatch.setattr(voice.speech, "local_transcriber", transcriber)
    return built


BAD = {"empty.wav": ("", "the file is empty (0 bytes), not a recording"),
       "notes.m4a": ("my answer, typed into a file named .m4a", "not a readable recording (Invalid data"),
       "header.wav": (None, "the recording is empty (no sound in it)")}


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_recording_is_refused_before_any_model_loads(tmp_path: Path, loaded, name):
    content, why = BAD[name]
    path = tmp_path / name
    if content is None:
        write_wav(path, seconds=0)  # a WAV header and no sound
    else:
        path.write_text(content)
    result = run("ask", "w06-thu-4", "--audio", str(path))
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"tutor: error: {path}: {why}")
    assert loaded == []  # neither the judge nor the speech model was built


def test_a_good_recording_still_loads_both(tmp_path: Path, loaded):
    result = run("ask", "w06-thu-4", "--audio", str(write_wav(tmp_path / "answer.wav")))
    assert result.exit_code == 0, result.stderr
    assert sorted(loaded) == ["judge", "speech"]


def test_ask_with_a_long_recording_says_what_was_not_transcribed(tmp_path: Path, monkeypatch):
    long_answer = " ".join(f"MQA keeps one key value head, point {n}." for n in range(200))  # 1,600 words
    recogniser = FakeTranscriber(lambda audio: long_answer, seconds=662.0, segment_words=40)
    monkeypatch.setattr(voice, "check_speech", lambda: None)
    monkeypatch.setattr(voice.speech, "local_transcriber", lambda: recogniser)
    result = run("--backend", "fake", "ask", "w06-thu-4", "--audio", str(write_wav(tmp_path / "long.m4a")))
    assert result.exit_code == 0, result.stderr
    assert recogniser.segments_read == 9  # of 40
    assert ("recording long.m4a: graded the first 350 words (2:29 of 11:02); the rest was not transcribed"
            in " ".join(result.stdout.split()))


def test_a_long_spoken_answer_says_what_was_not_transcribed(bank):
    """--voice: a turn may run 3 minutes; past the graded words it is not transcribed either."""
    long_answer = " ".join(f"GQA shares one key value head per group, point {n}." for n in range(60))  # 600
    drill, out, _ = drill_by_voice("\n", long_answer)
    drill.run([bank.get("w06-thu-4")])
    assert "your answer: graded the first 350 words (" in " ".join(out.getvalue().split())
    [row] = drill.session.history.attempts()
    assert 350 < len(row["answer"].split()) < 600
