"""Speech to text, local: the `Transcriber` protocol, faster-whisper behind it, and a fake.

faster-whisper (CTranslate2) runs Whisper base in int8 on the CPU, with its Silero voice
activity filter (shipped inside the package, so nothing is fetched at run time). Recordings in
any format PyAV decodes (wav, mp3, m4a, ogg, webm) or raw 16 kHz samples from a microphone are
accepted. The imports of faster_whisper stay inside functions: the typed path never loads it.
"""

import importlib.util
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from tutor.core.errors import ExitCode, TutorError
from tutor.core.speech.spoken import written

RATE = 16_000  # samples per second, what Whisper listens at
MIN_SECONDS = 0.1  # a recording shorter than this holds no answer
Audio = Path | NDArray[np.float32]  # a recording file, or mono float samples at RATE
INSTALL_HINT = "pip install 'tutor[voice]'"


class RecordingError(TutorError):
    """A recording that gives no answer: unreadable, empty or silent. Batch grading reports it
    as a problem row; a learner session says it in one line."""


@dataclass(frozen=True)
class Transcript:
    text: str  # what the recogniser wrote, before `spoken.written`
    seconds: float  # the recording's duration
    transcribe_seconds: float = 0.0  # how long recognition took
    cut_at: float | None = None  # where transcription stopped (s); None: the whole recording

    def cut_note(self, what: str, max_words: int) -> str | None:
        """What was left out of `what` ("recording ann.m4a"), in one line, when transcription
        stopped at the words graded; None when nothing was."""
        if self.cut_at is None:
            return None
        return (f"{what}: graded the first {max_words} words ({clock(self.cut_at)} of "
                f"{clock(self.seconds)}); the rest was not transcribed")


def clock(seconds: float) -> str:
    """11:02 for 662 s."""
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


class Segment(Protocol):
    """A stretch of a recording as the recogniser hands it over."""

    @property
    def text(self) -> str: ...

    @property
    def end(self) -> float: ...


def graded_words(text: str, terms: Sequence[str] = ()) -> int:
    """The words of a transcript as grading counts them: in its written form (`spoken.written`,
    what the grader reads), split at whitespace (`tutor.core.answer`'s cap)."""
    return len(written(text, terms).split())


def heard_until(segments: Iterable[Segment], max_words: int | None, terms: Sequence[str] = (),
                ) -> tuple[str, float | None]:
    """The segments' text, and where reading stopped (the end of the last segment read) when
    the text already held more than `max_words` graded words; None when every segment was
    read. Segments are read one at a time: faster-whisper transcribes a segment only when it is
    asked for, so what is not read is never transcribed (an 11-minute answer took 551 s and
    2.8 GB, and only its first 350 words were graded)."""
    parts: list[str] = []
    for segment in segments:
        parts.append(segment.text.strip())
        if max_words is not None and graded_words(" ".join(parts), terms) > max_words:
            return " ".join(parts).strip(), segment.end
    return " ".join(parts).strip(), None


class Transcriber(Protocol):
    """Everything the sessions, the batch and the evals ask of a speech recogniser."""

    @property
    def name(self) -> str:
        """The model and settings: a transcript cached under another name is made again."""
        ...

    def transcribe(self, audio: Audio, terms: Sequence[str] = (), max_words: int | None = None,
                   ) -> Transcript:
        """The words in `audio`; `terms` (the course's vocabulary) bias recognition toward
        them. With `max_words` (what grading reads), transcription stops once the transcript
        holds more words than that (`heard_until`). Raises `RecordingError` for an unreadable
        or silent recording."""
        ...


def voice_extra_missing() -> str | None:
    """Why speech cannot run here (the optional extra is not installed), or None."""
    missing = [name for name in ("faster_whisper", "text_to_num") if importlib.util.find_spec(name) is None]
    if missing:
        return f"speech needs the voice extra ({', '.join(missing)} not installed): {INSTALL_HINT}"
    return None


def require_voice_extra() -> None:
    problem = voice_extra_missing()
    if problem:
        raise TutorError(problem)


class WhisperTranscriber:
    """Whisper base, int8, on the CPU, from an assembled model folder (`tutor model install
    speech`); the model loads once, in the constructor (about 1–2 s on 2 cores)."""

    def __init__(self, folder: Path, threads: int | None = None, beam_size: int = 5,
                 pad_seconds: float = 1.0):
        require_voice_extra()
        from faster_whisper import WhisperModel

        start = time.perf_counter()
        self._model = WhisperModel(str(folder), device="cpu", compute_type="int8",
                                   cpu_threads=threads or min(os.cpu_count() or 1, 8),
                                   local_files_only=True)
        self.load_seconds = time.perf_counter() - start
        self._beam_size = beam_size
        self._pad = int(pad_seconds * RATE)
        self._name = f"{folder.name}-int8-beam{beam_size}-pad{pad_seconds:g}-terms2-nots"

    @property
    def name(self) -> str:
        return self._name

    def transcribe(self, audio: Audio, terms: Sequence[str] = (), max_words: int | None = None,
                   ) -> Transcript:
        """Recognition runs on the recording with `pad_seconds` of silence added at each end:
        without it, Whisper base garbled the last words of some answers ("KV cache is extra"
        heard as "KV cache MAK, TRO", `tests/core/test_speech_model.py`); `evals/voice.py --pad 0`
        is the ablation. Whisper predicts no timestamps: with them it could jump to a timestamp
        past the rest of the speech and end early (README's recorded 19 s answer lost its third
        sentence, the last 9 s), and a transcript must never lose what was said."""
        samples = decode(audio)
        seconds = len(samples) / RATE
        if seconds < MIN_SECONDS:
            raise RecordingError(f"{_label(audio)}: the recording is empty")
        start = time.perf_counter()
        segments, _ = self._model.transcribe(
            np.pad(samples, self._pad), language="en", beam_size=self._beam_size, vad_filter=True,
            condition_on_previous_text=False, hotwords=_context(terms), without_timestamps=True)
        text, stopped = heard_until(segments, max_words, terms)
        if not text:
            raise RecordingError(f"{_label(audio)}: no speech heard ({seconds:.1f} s of silence or "
                                 "noise)")
        cut_at = None if stopped is None else min(max(stopped - self._pad / RATE, 0.0), seconds)
        return Transcript(text, seconds, time.perf_counter() - start, cut_at)


def _context(terms: Sequence[str]) -> str | None:
    """The course's terms as Whisper's preceding text (its "hotwords"), written as a sentence:
    after a bare list of terms Whisper wrote answers with almost no full stops (README's recorded
    three-sentence answer came out as one sentence), so feedback, which quotes the learner
    sentence by sentence, quoted a whole answer for every point. `evals/voice.py` reports
    sentence ends, typed against transcribed."""
    return f"Terms: {', '.join(terms)}." if terms else None


def check_recording(audio: Path) -> None:
    """`RecordingError`, naming the file, unless `audio` is a file of decodable, non-empty audio.
    Run before any model loads: a 0-byte or non-audio file waited 7–12 s for the judge to load
    before it was refused. Only the first tenth of a second is decoded."""
    require_voice_extra()  # PyAV comes with faster-whisper
    if not audio.is_file():
        raise RecordingError(f"{audio}: no such file")
    try:
        size = audio.stat().st_size
    except OSError as exc:
        raise RecordingError(f"{audio}: cannot read the recording ({exc.strerror or exc})") from None
    if size == 0:
        raise RecordingError(f"{audio}: the file is empty (0 bytes), not a recording")
    try:
        heard = _first_seconds(audio)
    except RecordingError:
        raise
    except Exception as exc:  # noqa: BLE001 - PyAV raises many kinds; each means "unreadable"
        raise RecordingError(f"{audio}: not a readable recording ({_reason(exc)})") from None
    if heard < MIN_SECONDS:
        raise RecordingError(f"{audio}: the recording is empty (no sound in it)")


def _first_seconds(audio: Path) -> float:
    """Seconds of sound decoded from the start of `audio`, up to `MIN_SECONDS`."""
    import av

    with av.open(str(audio)) as container:
        if not container.streams.audio:
            raise RecordingError(f"{audio}: holds no sound (no audio track)")
        heard = 0.0
        for frame in container.decode(container.streams.audio[0]):
            heard += frame.samples / (frame.sample_rate or RATE)
            if heard >= MIN_SECONDS:
                break
        return heard


def _reason(exc: Exception) -> str:
    return " ".join(str(getattr(exc, "strerror", None) or exc).split())[:120] or type(exc).__name__


def decode(audio: Audio) -> NDArray[np.float32]:
    """Mono float32 samples at 16 kHz; PyAV decodes files (wav, mp3, m4a, ogg, webm)."""
    if not isinstance(audio, Path):
        return np.asarray(audio, dtype=np.float32).reshape(-1)
    from faster_whisper.audio import decode_audio

    if not audio.is_file():
        raise RecordingError(f"{audio}: no such file")
    try:
        samples: NDArray[np.float32] = decode_audio(str(audio), sampling_rate=RATE)
    except Exception as exc:  # noqa: BLE001 - PyAV raises many kinds; each means "unreadable"
        raise RecordingError(f"{audio}: not a readable recording ({_reason(exc)})") from None
    return samples


def _label(audio: Audio) -> str:
    return str(audio) if isinstance(audio, Path) else "the recording"


@dataclass(frozen=True)
class FakeSegment:
    text: str
    end: float


class FakeTranscriber:
    """For tests: the text for each file name (or a function of the audio); "" means silence.
    Records what it was asked, so a test can check that a cached transcript was reused. The
    text is handed over lazily in segments of `segment_words` words spread evenly over
    `seconds`, as Whisper hands over its segments; `segments_read` counts those read."""

    def __init__(self, texts: Mapping[str, str] | Callable[[Audio], str], seconds: float = 3.0,
                 segment_words: int = 25):
        self._texts = texts
        self.seconds = seconds
        self.segment_words = segment_words
        self.calls: list[tuple[Audio, tuple[str, ...]]] = []
        self.segments_read = 0

    @property
    def name(self) -> str:
        return "fake"

    def transcribe(self, audio: Audio, terms: Sequence[str] = (), max_words: int | None = None,
                   ) -> Transcript:
        self.calls.append((audio, tuple(terms)))
        if isinstance(audio, Path) and not audio.is_file():
            raise RecordingError(f"{audio}: no such file")
        if callable(self._texts):
            text = self._texts(audio)
        else:
            text = self._texts.get(audio.name if isinstance(audio, Path) else "", "")
        if not text.strip():
            raise RecordingError(f"{_label(audio)}: no speech heard")
        heard, cut_at = heard_until(self._segments(text), max_words, terms)
        return Transcript(heard, self.seconds, cut_at=cut_at)

    def _segments(self, text: str) -> Iterator[FakeSegment]:
        words = text.split()
        size = self.segment_words
        for start in range(0, len(words), size):
            self.segments_read += 1
            end = self.seconds * min(start + size, len(words)) / len(words)
            yield FakeSegment(" ".join(words[start:start + size]), end)


def load_transcriber(folder: Path, **options: Any) -> Transcriber:
    """The local Whisper model in `folder`; a load failure is one line (exit code 3)."""
    require_voice_extra()
    try:
        return WhisperTranscriber(folder, **options)
    except (RuntimeError, OSError, ValueError) as exc:
        raise TutorError(f"the speech model in {folder} failed to load ({' '.join(str(exc).split())[:160]}); "
                         "run `tutor model install speech --force`", ExitCode.MODEL) from None
