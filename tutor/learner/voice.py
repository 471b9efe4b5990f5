"""Spoken answers in a session: `--voice` (the microphone) and `--audio FILE` (a recording).

Both are `Answers` sources for the one session loop (`tutor.learner.session`): they hand back
text, and from there a spoken answer is graded, recorded and scheduled exactly like a typed one.

With the microphone, a turn is: the question is shown (and read aloud by espeak-ng with
--speak), the learner talks, a pause of about 2 s or Enter ends the turn, the transcript is
shown, and the learner accepts it (Enter), records again (r), types a correction (e) or gives a
command word. While they read it, the judge already works on it. The transcript is what a
typist would have written (`tutor.core.speech.written`: "seventy B" → "70B").

The learner's words never reach a shell: espeak-ng gets an argument list and the text on stdin
(`tutor.core.speech.espeak`).
"""

import queue
import select
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, TextIO

import numpy as np
from numpy.typing import NDArray
from rich.markup import escape

from tutor.core import model_store, speech
from tutor.core.answer import MAX_WORDS
from tutor.core.console import Console
from tutor.core.errors import TutorError
from tutor.core.speech import espeak
from tutor.core.speech.transcriber import INSTALL_HINT, RATE, RecordingError, Transcriber, Transcript
from tutor.learner.session import SPELLINGS

NO_MIC = "answer from a recording instead: tutor ask QUESTION_ID --audio FILE"
REVIEW = ("[dim]Enter: grade it · r: record again · e: edit (type it) · or /hint, /skip, /idk, "
          "/quit[/dim]")
NOTHING = "[dim]Enter: record again · e: type your answer instead · or /hint, /skip, /idk, /quit[/dim]"
VOICE_HELP = ("[dim]Say your answer, then check the transcript. Say \"hint\", \"skip\", "
              "\"I don't know\" or \"quit\" for a command.[/dim]")
SPOKEN_COMMANDS = {"skip": "/skip", "pass": "/skip", "next question": "/skip", "hint": "/hint",
                   "give me a hint": "/hint", "quit": "/quit", "stop the session": "/quit",
                   "no idea": "/idk", "i have no idea": "/idk", "i do not know": "/idk"}


class Again:
    """The learner asked to record the answer again."""


AGAIN = Again()


def spoken_command(text: str) -> str | None:
    """A transcript that is only a command word ("Skip.", "I don't know.") → the command."""
    words = " ".join("".join(c for c in text.lower() if c.isalnum() or c in " '").split())
    if words in SPELLINGS:
        return SPELLINGS[words].value
    return SPOKEN_COMMANDS.get(words)


@dataclass
class TurnTaking:
    """When a spoken answer is over: after speech, a pause of `silence_s`; or `wait_s` with no
    speech at all; or `max_s` in all. Speech is a block louder than three times the room's
    noise floor (and than `min_level`), which is learnt from the quiet blocks."""

    rate: int = RATE
    silence_s: float = 2.0
    wait_s: float = 15.0
    max_s: float = 180.0
    min_level: float = 0.01
    heard: bool = False
    floor: float | None = None
    quiet: float = 0.0
    total: float = 0.0

    def feed(self, block: NDArray[np.float32]) -> bool:
        """Take the next block of samples; True when the turn is over."""
        seconds = len(block) / self.rate
        level = float(np.sqrt(np.mean(np.square(block, dtype=np.float64)))) if len(block) else 0.0
        self.total += seconds
        if level > max(self.min_level, 3 * (self.floor or 0.0)):
            self.heard, self.quiet = True, 0.0
        else:
            self.quiet += seconds
            self.floor = level if self.floor is None else 0.9 * self.floor + 0.1 * level
        if self.heard:
            return self.quiet >= self.silence_s or self.total >= self.max_s
        return self.total >= self.wait_s


class Recorder(Protocol):
    def record(self) -> NDArray[np.float32]:
        """One spoken turn as 16 kHz mono samples (empty when nothing was said)."""
        ...


def _sounddevice() -> Any:
    """The PortAudio binding, or a one-line error (no extra, no PortAudio, no input device)."""
    try:
        import sounddevice
    except ImportError:
        raise TutorError(f"the microphone needs the voice extra: {INSTALL_HINT}") from None
    except OSError as exc:  # PortAudio itself is missing
        raise TutorError(f"no audio system ({exc}; Debian: apt-get install libportaudio2); "
                         f"{NO_MIC}") from None
    return sounddevice


def check_microphone() -> None:
    sd = _sounddevice()
    try:
        sd.query_devices(kind="input")
    except (sd.PortAudioError, ValueError) as exc:
        raise TutorError(f"no microphone found ({' '.join(str(exc).split())}); {NO_MIC}") from None


@dataclass
class Microphone:
    """The default input device through sounddevice, at its own sample rate (resampled to
    16 kHz after the turn); Enter (in a terminal) also ends a turn."""

    console: Console

    def record(self) -> NDArray[np.float32]:
        sd = _sounddevice()
        blocks: queue.Queue[NDArray[np.float32]] = queue.Queue()
        rate = int(sd.query_devices(kind="input")["default_samplerate"])
        turn, kept = TurnTaking(rate), []

        def hear(data: NDArray[np.float32], frames: int, time: object, status: object) -> None:
            blocks.put(data[:, 0].copy())

        try:
            with sd.InputStream(samplerate=rate, channels=1, dtype="float32", blocksize=rate // 10,
                                callback=hear), self.console.out.status(
                    "[red]●[/red] Listening… (a 2 s pause or Enter ends your answer)"):
                while not _enter_pressed(self.console.stdin):
                    try:
                        block = blocks.get(timeout=0.5)
                    except queue.Empty:
                        continue
                    kept.append(block)
                    if turn.feed(block):
                        break
        except sd.PortAudioError as exc:
            raise TutorError(f"the microphone failed ({' '.join(str(exc).split())}); {NO_MIC}") from None
        if not turn.heard or not kept:
            return np.zeros(0, dtype=np.float32)
        return resample(np.concatenate(kept), rate)


def resample(samples: NDArray[np.float32], rate: int) -> NDArray[np.float32]:
    """Samples at `rate` → at 16 kHz (linear interpolation: enough for speech recognition)."""
    if rate == RATE:
        return samples
    times = np.arange(0, len(samples), rate / RATE)
    resampled: NDArray[np.float32] = np.interp(times, np.arange(len(samples)), samples).astype(np.float32)
    return resampled


def _enter_pressed(stdin: TextIO | None) -> bool:
    """A line typed in the terminal while recording (read and dropped); piped input is not
    read here, it holds the learner's choices."""
    if stdin is None or not getattr(stdin, "isatty", lambda: False)():
        return False
    ready, _, _ = select.select([stdin], [], [], 0)
    if ready:
        stdin.readline()
    return bool(ready)


class Speaker:
    """Reads questions aloud with espeak-ng; when it is missing or fails, says so once and
    the session goes on silently."""

    def __init__(self, console: Console):
        self.console = console
        self.working = espeak.available()
        if not self.working:
            console.print(f"[yellow]{espeak.MISSING}: questions are not read aloud.[/yellow]")

    def say(self, text: str) -> None:
        if not self.working:
            return
        try:
            espeak.say(text)
        except (TutorError, OSError, subprocess.SubprocessError) as exc:
            self.working = False
            self.console.print(f"[yellow]Reading aloud stopped: {escape(str(exc))}[/yellow]")


class Loading:
    """The speech model, loading in the background from the start of the session."""

    def __init__(self, load: Callable[[], Transcriber]):
        pool = ThreadPoolExecutor(max_workers=1)
        self._future: Future[Transcriber] = pool.submit(load)
        pool.shutdown(wait=False)

    def get(self, console: Console) -> Transcriber:
        if not self._future.done():
            with console.out.status("Loading the speech model…"):
                return self._future.result()
        return self._future.result()


@dataclass
class VoiceAnswers:
    """Replies spoken into the microphone (see the module docstring)."""

    console: Console
    recorder: Recorder
    transcriber: Loading
    terms: Sequence[str] = ()
    speaker: Speaker | None = None
    _partial: list[str] = field(default_factory=list)
    spoken: ClassVar[bool] = True
    help: ClassVar[str] = VOICE_HELP

    @property
    def partial(self) -> list[str]:
        return self._partial

    def speak(self, text: str) -> None:
        if self.speaker:
            self.speaker.say(text)

    def read_answer(self, on_line: Callable[[str], None] | None = None) -> str | None:
        while True:
            text = self._listen()
            self._partial = [text] if text else []
            if text and on_line:
                on_line(text)  # the judge works on it while the learner reads it
            choice = self._review(text, on_line)
            if not isinstance(choice, Again):
                return choice

    def _listen(self) -> str:
        """One recorded turn, transcribed and written out ("" when nothing was said)."""
        samples = self.recorder.record()
        transcriber = self.transcriber.get(self.console)
        try:
            with self.console.out.status("Transcribing…"):
                heard = transcriber.transcribe(samples, self.terms, MAX_WORDS)
        except RecordingError:
            return ""
        _say_cut(self.console, heard, "your answer")
        return speech.written(heard.text, self.terms)

    def _review(self, text: str, on_line: Callable[[str], None] | None) -> str | None | Again:
        """Accept (the text, or its command), record again, or the learner's own text."""
        if text:
            self.console.print(f"[bold]You said:[/bold] {escape(text)}", soft_wrap=True)
        self.console.print(REVIEW if text else "[yellow]I heard nothing.[/yellow] " + NOTHING)
        while True:
            line = self.console.read_line("> ")
            choice = (line or "").strip()
            if line is None or (choice == "" and text):
                return (spoken_command(text) or text) if text else None
            if choice == "" or choice.lower() in {"r", "again"}:
                return AGAIN
            if choice.lower() in {"e", "edit"}:
                self.console.print("[dim]Type the answer as it should read; finish with a line "
                                   "holding only '.'.[/dim]")
                return self.console.read_answer(on_line=on_line) or text or AGAIN
            if (command := spoken_command(choice)) or choice.startswith("/"):
                return command or choice
            self.console.print(REVIEW if text else NOTHING)


@dataclass
class RecordingAnswers:
    """The first reply from a recording (`--audio FILE`); any later one (a clarifying
    question) is typed."""

    console: Console
    audio: Path | None
    transcriber: Loading
    terms: Sequence[str] = ()
    spoken: ClassVar[bool] = True
    help: ClassVar[str] = ""  # the recording is the answer: nothing to type, no commands to give

    @property
    def partial(self) -> list[str]:
        return self.console.partial if self.audio is None else []

    def speak(self, text: str) -> None:
        pass

    def read_answer(self, on_line: Callable[[str], None] | None = None) -> str | None:
        if self.audio is None:
            return self.console.read_answer(on_line=on_line)
        audio, self.audio = self.audio, None
        transcriber = self.transcriber.get(self.console)
        with self.console.out.status(f"Transcribing {escape(audio.name)}…"):
            heard = transcriber.transcribe(audio, self.terms, MAX_WORDS)
        text = speech.written(heard.text, self.terms)
        self.console.print(f"[bold]Transcript of {escape(audio.name)}[/bold] ({heard.seconds:.1f} s): "
                           f"{escape(text)}", soft_wrap=True)
        _say_cut(self.console, heard, f"recording {audio.name}")
        return spoken_command(text) or text


def _say_cut(console: Console, heard: Transcript, what: str) -> None:
    """One line when transcription stopped at the words that are graded."""
    note = heard.cut_note(what, MAX_WORDS)
    if note:
        console.print(f"[yellow]{escape(note)}[/yellow]", soft_wrap=True)


def check_speech() -> None:
    """Speech can run here: the extra is installed and the model verified (one line if not)."""
    problem = speech.voice_extra_missing()
    if problem:
        raise TutorError(problem)
    model_store.resolve_speech()


def _loader(load: Callable[[], Transcriber] | None) -> Loading:
    """The given model loader, else the installed Whisper model (checked now, loaded in the
    background)."""
    if load is None:
        check_speech()
    return Loading(load or speech.local_transcriber)


def from_recording(console: Console, audio: Path, terms: Sequence[str],
                   load: Callable[[], Transcriber] | None = None) -> RecordingAnswers:
    """`--audio FILE`: the answer to one question, from a recording, which is checked before
    any model loads (`check_recording`)."""
    if not audio.is_file():
        raise TutorError(f"--audio {audio}: no such file")
    speech.check_recording(audio)
    return RecordingAnswers(console, audio, _loader(load), speech.hints(terms))


def from_microphone(console: Console, terms: Sequence[str], speak: bool,
                    load: Callable[[], Transcriber] | None = None,
                    recorder: Recorder | None = None) -> VoiceAnswers:
    """`--voice`: spoken answers from the microphone, checked before the session starts."""
    if recorder is None:
        check_microphone()
    return VoiceAnswers(console, recorder or Microphone(console), _loader(load), speech.hints(terms),
                        Speaker(console) if speak else None)
