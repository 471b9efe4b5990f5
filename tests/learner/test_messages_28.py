"""Issue 28 (12): what the learner is told: no typing instructions for a recording, "you said"
for a spoken answer, and after Ctrl-C exactly what was kept."""

import io
from pathlib import Path

from tests.learner.test_drill import InterruptingInput, drill_with
from tests.learner.test_voice import fake_speech, run  # noqa: F401 (a fixture)
from tests.recordings import write_wav
from tutor.core.console import Console
from tutor.core.feedback import clarifying_question
from tutor.core.judges.fake import FakeJudge
from tutor.core.result import Band, Grade, Outcome, Verdict
from tutor.learner.drill import Drill
from tutor.learner.history import History
from tutor.learner.session import HELP, Session

TYPING = "Finish an answer with a line holding only"


def test_ask_audio_shows_no_typing_instructions_and_says_you_said(tmp_path: Path, fake_speech):  # noqa: F811
    write_wav(tmp_path / "answer.wav")
    result = run("--backend", "fake", "ask", "w06-thu-4", "--audio", str(tmp_path / "answer.wav"))
    assert result.exit_code == 0, result.stderr
    assert "Transcript of answer.wav" in result.stdout
    assert TYPING not in result.stdout and "/quit" not in result.stdout
    assert "— you said" in result.stdout and "wrote" not in result.stdout  # feedback and follow-up


def test_a_clarifying_question_quotes_a_spoken_answer_as_said_and_a_typed_one_as_written(bank):
    rubric = bank.get("w06-thu-4").model_copy(update={"follow_ups": []})  # no examiner question
    point = rubric.key_points[1]
    unsure = Verdict(point_id=point.id, kind="key_point", claim=point.claim, outcome=Outcome.HIT,
                     confidence=0.5, evidence="in GQA each group shares one", pointer=rubric.pointer)
    grade = Grade(question_id=rubric.id, score=0.5, band=Band.PARTIAL, verdicts=[unsure], review=True,
                  uncertain=[point.id])
    spoken = clarifying_question(rubric, grade, "In GQA each group shares one.", said=True)
    typed = clarifying_question(rubric, grade, "In GQA each group shares one.")
    assert spoken == ("You said “in GQA each group shares one”. "
                      "Say precisely what you mean there, in a sentence or two.")
    assert typed == spoken.replace("You said", "You wrote")


def test_typed_answers_still_get_the_typing_instructions_and_you_wrote(bank):
    drill, out = drill_with("MQA shares one KV head; GQA one per group.\n.\n")
    drill.run([bank.get("w06-thu-4")])
    assert TYPING in out.getvalue() and HELP.startswith("[dim]" + TYPING)
    assert "— you wrote “" in out.getvalue() and "you said" not in out.getvalue()


def _interrupted(bank, typed: str) -> tuple[str, list[dict]]:
    out = io.StringIO()
    console = Console(stdin=InterruptingInput(typed), stdout=out, width=200)
    drill = Drill(Session(console, History(), lambda: FakeJudge(default=0.9), "drill"))
    drill.run([bank.get("w06-thu-5"), bank.get("w06-thu-6")])
    return out.getvalue(), drill.session.history.attempts()


def test_ctrl_c_mid_answer_says_the_unfinished_answer_is_kept_ungraded_and_not_offered_back(bank):
    text, rows = _interrupted(bank, "First answer here ok.\n.\nhalf typed")
    assert rows[-1]["status"] == "ungraded" and rows[-1]["answer"] == "half typed"
    assert "everything you typed is saved" not in text
    assert ("Interrupted. Answers graded before it are saved. The unfinished answer is saved in the "
            "history, ungraded; no later session offers it back.") in text


def test_ctrl_c_between_answers_says_nothing_unfinished_was_kept(bank):
    text, rows = _interrupted(bank, "First answer here ok.\n.\n")
    assert [r["status"] for r in rows] == ["graded"]
    assert "Interrupted. Answers graded before it are saved; no unfinished answer was typed." in text
    assert "unfinished answer is saved" not in text


def test_a_voice_session_explains_speaking_not_typing():
    from tutor.learner.voice import VOICE_HELP, RecordingAnswers, VoiceAnswers

    console = Console(stdin=io.StringIO(""), stdout=io.StringIO())
    helps = {}
    for kind, answers in (("voice", VoiceAnswers(console, None, None)),  # type: ignore[arg-type]
                          ("audio", RecordingAnswers(console, Path("a.wav"), None))):  # type: ignore[arg-type]
        session = Session(console, History(), FakeJudge, "drill")
        session.answers = answers
        helps[kind] = session.help
    assert helps == {"voice": VOICE_HELP, "audio": ""} and TYPING not in VOICE_HELP
    assert Session(console, History(), FakeJudge, "drill").help == HELP
