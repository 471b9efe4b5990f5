"""Spoken answers against typed ones: the same gold answers, spoken by a local synthetic voice,
transcribed by the local Whisper base (int8) and graded by the local judge.

    .venv/bin/python evals/voice.py [--voice festival|espeak | --control] [--split dev|test]
                                    [--limit 40] [--no-terms] [--pad 1] [--out DIR]

The set is fixed: the strong and partial answers of a gold split, in file order (the first
`--limit`). The speech path is chosen on dev; test is for the final figure. `--control`
replaces the speech with the typed answer's sentence ends turned into commas (no TTS, no
recogniser): what the judge alone does with punctuation it did not expect.

For each answer: the voice speaks it into a WAV file (the few symbols a typist uses and a
speaker says in words are said in words first: "70B x 2" → "70B times 2", "~140 GB" → "about
140 GB", "fp16: 1/5/10" → "fp16: 1, 5, 10", "n_layers" → "n layers"), the recogniser
transcribes it (biased toward the course's speech terms, unless --no-terms; `--pad` seconds of
silence added at each end, the transcriber's default), `speech.written` turns the transcript
into the written form, and the judge grades the typed answer and the spoken one. Reported:

- word error rate of the transcript against the typed answer, before and after the written
  form (both lowercased, punctuation dropped), with jiwer;
- band agreement between the typed and the spoken grade, the mean |score difference|, and the
  answers whose band changed, with both texts;
- seconds of transcription per second of audio (the real-time factor) and the model's load time.

Two voices, both from Debian's packages and both synthetic, so both are a proxy for a learner:
- `festival` (the default): Festival with the HTS voice cmu_us_slt_arctic_hts, a statistical
  parametric voice close to a clear human reader (`apt-get install festival festvox-us-slt-hts`);
- `espeak`: espeak-ng's formant voice en-us+m3, the speech tests' voice: robotic, and much harder
  for Whisper (word error rate about 1.5 times festival's on dev).
Writes report.md, rows.jsonl and the recordings (audio/) to --out (default
evals/out/voice-VOICE-SPLIT, gitignored).
"""

import argparse
import json
import re
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import jiwer

from tutor.core import model_store, speech
from tutor.core.course import bundled_course
from tutor.core.grader import grade
from tutor.core.judges.local import LocalJudge
from tutor.core.judges.registry import ReliableJudge
from tutor.core.speech import espeak
from tutor.core.speech.transcriber import Transcript, WhisperTranscriber
from tutor.teacher.evaluation import GoldAnswer, load_gold
from tutor.teacher.invariance import run_on

CATEGORIES = ("strong", "partial")


@dataclass
class Row:
    id: str
    question_id: str
    category: str
    typed: str
    heard: str  # the recogniser's text
    written: str  # what was graded
    audio_seconds: float
    transcribe_seconds: float
    wer_heard: float
    wer_written: float
    typed_band: str
    spoken_band: str
    typed_score: float
    spoken_score: float


SAID_AS = [(re.compile(r"(?<=\w)_(?=\w)"), " "),
           (re.compile(r"\s+[x×*]\s+|(?<=\d)\s*[x×*]\s*(?=\d)"), " times "),
           (re.compile(r"\s*[~≈]\s*"), " about "), (re.compile(r"\s*=\s*"), " equals "),
           (re.compile(r"\s*->\s*|\s*→\s*"), " gives "),
           (re.compile(r"(?<=\d)/(?=\d)"), ", "), (re.compile(r"\s*/\s*"), " or ")]


def speakable(text: str) -> str:
    """The typed answer as a learner would say it: symbols in words (see the docstring)."""
    for pattern, words_for in SAID_AS:
        text = pattern.sub(words_for, text)
    return text


FESTIVAL_VOICE_DIR = "/usr/share/festival/voices/us/cmu_us_slt_arctic_hts"


def festival_wav(text: str, path: Path) -> Path:
    """`text` read by Festival's HTS voice into a WAV file; the text goes on stdin, no shell."""
    program = shutil.which("text2wave")
    if program is None or not Path(FESTIVAL_VOICE_DIR).is_dir():
        raise SystemExit("evals/voice.py --voice festival needs Debian's festival and festvox-us-slt-hts "
                         "(apt-get install festival festvox-us-slt-hts), or use --voice espeak")
    subprocess.run([program, "-eval", "(voice_cmu_us_slt_arctic_hts)", "-o", str(path)], input=text,
                   text=True, capture_output=True, timeout=600, check=True)
    return path


VOICES: dict[str, Callable[[str, Path], Path]] = {"festival": festival_wav, "espeak": espeak.to_wav}


def words(text: str) -> str:
    """Lowercase words and numbers only: what the word error rate compares."""
    return " ".join(re.sub(r"[^a-z0-9.]+", " ", text.lower().replace(",", "")).replace(". ", " ").split())


def sentence_ends(text: str) -> int:
    """Full stops, question and exclamation marks that end a sentence: feedback quotes the
    learner sentence by sentence, so a transcript without them is quoted whole."""
    return len(re.findall(r"[.?!](?:\s|$)", text))


def wer(reference: str, hypothesis: str) -> float:
    return float(jiwer.wer(words(reference), words(hypothesis) or "—"))


def answers(split: str, limit: int) -> list[GoldAnswer]:
    return [g for g in load_gold(split) if g.category in CATEGORIES][:limit]


def hear(answer: GoldAnswer, recogniser: WhisperTranscriber | None, terms: tuple[str, ...],
         args: argparse.Namespace) -> tuple[Transcript, str]:
    """(what the recogniser heard, its written form); with no recogniser, the control's run-on
    typed answer stands for both."""
    if recogniser is None:
        text = run_on(answer.answer)
        return Transcript(text, 0.0), text
    recording = VOICES[args.voice](speakable(answer.answer), args.out / "audio" / f"{answer.id}.wav")
    heard = recogniser.transcribe(recording, terms)
    return heard, speech.written(heard.text, terms)


def run(args: argparse.Namespace) -> tuple[list[Row], float]:
    course = bundled_course()
    terms = () if args.no_terms else speech.hints(course.info.speech_terms)
    recogniser = None if args.control else WhisperTranscriber(model_store.resolve_speech(),
                                                              pad_seconds=args.pad)
    judge = ReliableJudge(LocalJudge.load(model_store.resolve(None)))
    (args.out / "audio").mkdir(parents=True, exist_ok=True)
    rows = []
    for number, answer in enumerate(answers(args.split, args.limit), 1):
        heard, written = hear(answer, recogniser, terms, args)
        rubric = course.bank.get(answer.question_id)
        typed_grade, spoken_grade = grade(rubric, answer.answer, judge), grade(rubric, written, judge)
        rows.append(Row(answer.id, answer.question_id, answer.category, answer.answer, heard.text, written,
                        round(heard.seconds, 2), round(heard.transcribe_seconds, 3),
                        wer(answer.answer, heard.text), wer(answer.answer, written),
                        str(typed_grade.band), str(spoken_grade.band), typed_grade.score, spoken_grade.score))
        print(f"{number}/{args.limit} {answer.id} {answer.question_id}: {rows[-1].typed_band} → "
              f"{rows[-1].spoken_band}, WER {rows[-1].wer_written:.2f}", flush=True)
    return rows, recogniser.load_seconds if recogniser else 0.0


def report(rows: list[Row], load_seconds: float, args: argparse.Namespace) -> str:
    audio = sum(r.audio_seconds for r in rows)
    transcribing = sum(r.transcribe_seconds for r in rows)
    agree = [r for r in rows if r.typed_band == r.spoken_band]
    moved = statistics.mean(abs(r.typed_score - r.spoken_score) for r in rows)
    corpus = (jiwer.wer([words(r.typed) for r in rows], [words(r.heard) or "—" for r in rows]),
              jiwer.wer([words(r.typed) for r in rows], [words(r.written) or "—" for r in rows]))
    lines = [
        f"# Spoken vs typed: {len(rows)} {args.split} answers ({', '.join(CATEGORIES)}), {args.voice} → "
        + ("local judge (no speech: the typed answer, its sentence ends turned into commas)" if args.control
           else "Whisper base int8 → local judge"),
        "",
        f"Course speech terms as hotwords: {'no' if args.no_terms else 'yes'}. Silence added at each end: "
        f"{args.pad:g} s. {time.strftime('%Y-%m-%d')}.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| word error rate, transcript as heard | {corpus[0]:.3f} |",
        f"| word error rate, written form (graded) | {corpus[1]:.3f} |",
        f"| sentence ends, typed / transcript | {sum(map(sentence_ends, (r.typed for r in rows)))} / "
        f"{sum(map(sentence_ends, (r.heard for r in rows)))} |",
        f"| band agreement, spoken vs typed | {len(agree)}/{len(rows)} = {len(agree) / len(rows):.3f} |",
        f"| mean abs. score difference | {moved:.3f} |",
        *([f"| audio | {audio:.1f} s in all, {audio / len(rows):.1f} s per answer |",
           f"| transcription, seconds per second of audio | {transcribing / audio:.3f} |",
           f"| speech model load | {load_seconds:.2f} s |"] if audio else []),
        "",
        "## Answers graded into another band when spoken",
        "",
    ]
    for r in rows:
        if r.typed_band != r.spoken_band:
            lines += [f"- {r.id} ({r.question_id}, {r.category}): typed {r.typed_band} {r.typed_score:.2f}, "
                      f"spoken {r.spoken_band} {r.spoken_score:.2f}, WER {r.wer_written:.2f}",
                      f"  - typed: {r.typed}", f"  - graded: {r.written}"]
    if len(agree) == len(rows):
        lines.append("None.")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--voice", choices=sorted(VOICES), default="festival")
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--no-terms", action="store_true", help="No course terms as hotwords (ablation).")
    parser.add_argument("--pad", type=float, default=1.0, help="Seconds of silence added at each end "
                        "before recognition (0: the ablation).")
    parser.add_argument("--control", action="store_true", help="No speech: the typed answer with its "
                        "sentence ends turned into commas, graded against itself (the judge's share).")
    parser.add_argument("--out", type=Path, help="Default: evals/out/voice-VOICE-SPLIT.")
    args = parser.parse_args()
    args.voice = "control" if args.control else args.voice
    args.out = args.out or Path(f"evals/out/voice-{args.voice}-{args.split}")
    rows, load_seconds = run(args)
    text = report(rows, load_seconds, args)
    (args.out / "report.md").write_text(text, encoding="utf-8")
    with (args.out / "rows.jsonl").open("w", encoding="utf-8") as sink:
        sink.writelines(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in rows)
    print(text)


if __name__ == "__main__":
    main()
