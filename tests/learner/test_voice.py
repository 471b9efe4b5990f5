"""Spoken answers in a session, with a fake microphone and a fake recogniser: the transcript is
shown, accepted, re-recorded or edited, then graded on the same path as a typed answer."""

import io
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.recordings import write_wav
from tutor.core.console import Console
from tutor.core.errors import TutorError
from tutor.core.judges.fake import FakeJudge
from tutor.core.speech import espeak
from tutor.core.speech.transcriber import RATE, FakeTranscriber
from tutor.edge.cli import app
from tutor.learner import voice
from tutor.learner.drill import Drill
from tutor.learner.examiner import Examiner
from tutor.learner.history import History
from tutor.learner.session import Session
from tutor.learner.voice import TurnTaking, from_microphone, spoken_command

pytestmark = pytest.mark.speech

TERMS = ["KV cache", "GQA", "MQA"]
BLOCK = RATE // 10  # 100 ms


class Takes:
    """A microphone that returns one prepared take (a tag in the samples) per recording."""

    def __init__(self, *takes: str):
        self.takes = list(takes)
        self.recorded: list[str] = []

    def record(self):
        take = self.takes.pop(0)
        self.recorded.append(take)
        return np.full(RATE, len(self.recorded), dtype=np.float32) if take else np.zeros(0, np.float32)


def hears(takes: Takes):
    """A recogniser that hears the take the microphone just recorded."""
    return FakeTranscriber(lambda audio: takes.recorded[-1])


def drill_by_voice(typed: str, *takes: str, judge=None, speak=False):
    out = io.StringIO()
    console = Console(stdin=io.StringIO(typed), stdout=out, width=120)
    recorder = Takes(*takes)
    answers = from_microphone(console, TERMS, speak=speak, load=lambda: hears(recorder), recorder=recorder)
    session = Session(console, History(), lambda: judge or FakeJudge(default=0.9), "drill", answers)
    return Drill(session), out, recorder


def test_an_accepted_transcript_is_graded_and_recorded_like_a_typed_answer(bank):
    drill, out, _ = drill_by_voice("\n", "In G Q A each group shares one key value head; the KV cash "
                                         "shrinks.")
    drill.run([bank.get("w06-thu-4")])
    text = out.getvalue()
    assert "You said: In GQA each group shares one key value head; the KV cache shrinks." in text
    [row] = drill.session.history.attempts()
    assert (row["question_id"], row["kind"], row["status"]) == ("w06-thu-4", "drill", "graded")
    assert row["answer"] == "In GQA each group shares one key value head; the KV cache shrinks."
    assert "w06-thu-4" in drill.session.history.cards()


def test_record_again_then_edit_by_typing(bank):
    typed = "r\ne\nMQA shares one KV head across all query heads.\n.\n"
    drill, out, recorder = drill_by_voice(typed, "first try mumbled", "second try also wrong")
    drill.run([bank.get("w06-thu-4")])
    assert recorder.recorded == ["first try mumbled", "second try also wrong"]
    [row] = drill.session.history.attempts()
    assert row["answer"] == "MQA shares one KV head across all query heads."


def test_nothing_heard_asks_again_and_a_spoken_command_word_works(bank):
    drill, out, _ = drill_by_voice("\n\n\n", "", "I don't know.", "Skip.")
    drill.run([bank.get("w06-thu-4"), bank.get("w06-thu-5")])
    text = out.getvalue()
    assert "I heard nothing." in text and "Reference answer:" in text
    rows = drill.session.history.attempts()
    assert [(r["question_id"], r["kind"]) for r in rows] == [("w06-thu-4", "idk")]
    assert "skipped" in text


def test_a_typed_command_at_the_transcript_prompt(bank):
    drill, out, _ = drill_by_voice("/hint\n\n", "GQA shares heads in groups.",
                                   "GQA shares KV heads per group.")
    drill.run([bank.get("w06-thu-4")])
    assert "re-read explainer §4.3" in out.getvalue()
    [row] = drill.session.history.attempts()
    assert row["answer"] == "GQA shares KV heads per group."


def test_end_of_input_at_the_prompt_accepts_the_transcript(bank):
    drill, _, _ = drill_by_voice("", "MQA shares one KV head.")
    drill.run([bank.get("w06-thu-4")])
    assert [r["answer"] for r in drill.session.history.attempts()] == ["MQA shares one KV head."]


def test_interrupted_while_checking_the_transcript_keeps_it(bank):
    class Interrupting(io.StringIO):
        def readline(self, *args):
            raise KeyboardInterrupt

    out = io.StringIO()
    console = Console(stdin=Interrupting(), stdout=out)
    recorder = Takes("GQA groups query heads.")
    answers = from_microphone(console, TERMS, speak=False, load=lambda: hears(recorder), recorder=recorder)
    drill = Drill(Session(console, History(), lambda: FakeJudge(default=0.9), "drill", answers))
    drill.run([bank.get("w06-thu-4")])
    [row] = drill.session.history.attempts()
    assert (row["status"], row["answer"]) == ("ungraded", "GQA groups query heads.")


def test_explain_by_voice_runs_the_examiner_loop(bank):
    out = io.StringIO()
    console = Console(stdin=io.StringIO("\n\n"), stdout=out, width=120)
    recorder = Takes("In GQA each group of query heads shares one key value head.", "")
    answers = from_microphone(console, TERMS, speak=False, load=lambda: hears(recorder), recorder=recorder)
    session = Session(console, History(), lambda: FakeJudge(default=0.9), "explain", answers)
    Examiner(session, "GQA", [bank.get("w06-thu-4")], rounds=1).run()
    assert "Covered" in out.getvalue()
    assert session.history.attempts()[0]["answer"].startswith("In GQA each group")


def test_questions_are_read_aloud_with_the_text_on_stdin(bank, monkeypatch):
    calls = []
    monkeypatch.setattr(espeak.shutil, "which", lambda name: "/usr/bin/espeak-ng")
    monkeypatch.setattr(espeak.subprocess, "run", lambda args, **kw: calls.append((args, kw)) or
                        type("Done", (), {"returncode": 0, "stderr": ""})())
    drill, _, _ = drill_by_voice("\n", "MQA shares one KV head.", speak=True)
    drill.run([bank.get("w06-thu-4")])
    args, options = calls[0]
    assert args == ["/usr/bin/espeak-ng", "--stdin"]  # no text on the command line, no shell
    assert options["input"] == bank.get("w06-thu-4").prompt and not options.get("shell")


def test_no_espeak_is_said_once_and_the_session_goes_on(bank, monkeypatch):
    monkeypatch.setattr(espeak.shutil, "which", lambda name: None)
    drill, out, _ = drill_by_voice("\n", "MQA shares one KV head.", speak=True)
    drill.run([bank.get("w06-thu-4")])
    assert out.getvalue().count("espeak-ng is not installed") == 1


def tone(seconds: float, level: float = 0.2):
    t = np.arange(int(seconds * RATE)) / RATE
    return (level * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def feed(turn: TurnTaking, samples) -> float | None:
    """Seconds fed when the turn ended (None: it did not)."""
    for start in range(0, len(samples), BLOCK):
        if turn.feed(samples[start:start + BLOCK]):
            return (start + BLOCK) / RATE
    return None


def test_a_two_second_pause_after_speech_ends_the_turn():
    room = np.random.default_rng(0).normal(0, 0.002, 6 * RATE).astype(np.float32)
    samples = np.concatenate([room[:RATE], tone(1.5) + room[:int(1.5 * RATE)], room[RATE:]])
    ended = feed(TurnTaking(), samples)
    assert ended is not None and 4.4 <= ended <= 4.6  # 1 s room, 1.5 s speech, 2 s pause


def test_a_short_pause_does_not_end_the_turn():
    samples = np.concatenate([tone(1), np.zeros(RATE, np.float32), tone(1), np.zeros(RATE, np.float32)])
    turn = TurnTaking()
    assert feed(turn, samples) is None and turn.heard


def test_silence_alone_ends_after_the_wait_with_nothing_heard():
    turn = TurnTaking(wait_s=3)
    assert feed(turn, np.zeros(5 * RATE, np.float32)) == pytest.approx(3.0)
    assert not turn.heard


@pytest.mark.parametrize(("said", "command"), [
    ("I don't know.", "/idk"), ("Skip.", "/skip"), ("Hint?", "/hint"), ("Quit", "/quit"),
    ("I don't know why GQA saves memory.", None)])
def test_spoken_command_words(said, command):
    assert spoken_command(said) == command


def test_no_microphone_is_one_line_suggesting_a_recording(monkeypatch):
    class NoDevice:
        class PortAudioError(Exception):
            pass

        def query_devices(self, kind):
            raise ValueError("No input device matching 'input'")

    monkeypatch.setattr(voice, "_sounddevice", NoDevice)
    with pytest.raises(TutorError, match=r"no microphone found .*--audio FILE") as error:
        voice.check_microphone()
    assert "\n" not in error.value.message


def run(*args: str, stdin: str = "", env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), input=stdin, env={"COLUMNS": "120", **(env or {})},
                              catch_exceptions=False)


@pytest.fixture
def fake_speech(monkeypatch):
    """The installed-model check passes and the recogniser is a fake."""
    recogniser = FakeTranscriber({"answer.wav": "MQA keeps one key value head; in G Q A each group "
                                                "shares one, so the KV cash is seventy times smaller."})
    monkeypatch.setattr(voice, "check_speech", lambda: None)
    monkeypatch.setattr(voice.speech, "local_transcriber", lambda: recogniser)
    return recogniser


def test_ask_with_audio_grades_the_recording(tmp_path: Path, fake_speech):
    write_wav(tmp_path / "answer.wav")
    result = run("--backend", "fake", "ask", "w06-thu-4", "--audio", str(tmp_path / "answer.wav"), "--json")
    assert result.exit_code == 0, result.stderr
    assert ("Transcript of answer.wav (3.0 s): MQA keeps one key value head; in GQA each group shares one, "
            "so the KV cache is 70 times smaller.") in result.stderr  # --json: stdout is the JSON alone
    grade = json.loads(result.stdout)
    assert (grade["question_id"], grade["status"]) == ("w06-thu-4", "graded")
    assert fake_speech.calls[0][1][:3] == ("KV cache", "fp16", "bf16")  # the course's terms bias it


def test_ask_with_a_missing_recording_is_one_line(tmp_path: Path, fake_speech):
    result = run("--backend", "fake", "ask", "w06-thu-4", "--audio", str(tmp_path / "nope.m4a"))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"tutor: error: --audio {tmp_path / 'nope.m4a'}: no such file"


def test_a_silent_recording_is_one_line_and_nothing_is_graded(tmp_path: Path, fake_speech):
    write_wav(tmp_path / "quiet.wav")
    result = run("--backend", "fake", "ask", "w06-thu-4", "--audio", str(tmp_path / "quiet.wav"))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"tutor: error: {tmp_path / 'quiet.wav'}: no speech heard"]


@pytest.mark.parametrize("args", [("ask", "w06-thu-4", "--speak"), ("drill", "--speak"),
                                  ("explain", "GQA", "--speak")])
def test_speak_needs_voice(args):
    result = run("--backend", "fake", *args)
    assert result.exit_code == 2 and "add --voice" in result.stderr


def test_without_the_voice_extra_voice_says_how_to_add_it(monkeypatch):
    monkeypatch.setattr(voice.speech, "voice_extra_missing",
                        lambda: "speech needs the voice extra (faster_whisper not installed): "
                                "pip install 'tutor[voice]'")
    monkeypatch.setattr(voice, "check_microphone", lambda: None)
    result = run("--backend", "fake", "drill", "--voice")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "tutor: error: speech needs the voice extra (faster_whisper not installed): "
        "pip install 'tutor[voice]'"]


def test_a_microphone_rate_is_resampled_to_16_khz():
    one_second = tone(1.0)
    at_48k = np.interp(np.arange(0, RATE, 1 / 3), np.arange(RATE), one_second).astype(np.float32)
    back = voice.resample(at_48k, 48_000)
    assert len(back) == RATE and np.abs(back - one_second).max() < 0.01


def test_the_typed_path_never_imports_the_speech_stack():
    import subprocess
    import sys

    code = ("import sys, tutor.edge.cli, tutor.teacher.batch.inputs, tutor.learner.session; "
            "print(sorted(m for m in ('faster_whisper', 'sounddevice', 'text_to_num', 'ctranslate2', 'av') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
