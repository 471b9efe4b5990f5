"""All interactive I/O goes through one `Console`, so tests can drive sessions.

Text a learner or a CSV supplied is untrusted: `safe_text` makes its control characters
visible instead of letting them drive the terminal, and the console applies it to every
piece of text it prints.

One voice, in channels: `print` (rich output: panels, tables), `say` (a result as plain text,
on stdout), `warn`, `error` and `note` (one line each on stderr: what was skipped, why the
command stops, how a long step is going) and `progress` (a bar, with the columns that suit what
it counts)."""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any, Literal, Protocol, TextIO

from rich.console import Console as RichConsole
from rich.console import ConsoleOptions, RenderableType
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.segment import Segment
from rich.text import Text

from tutor.core.errors import TutorError

END_MARKERS = {".", "/done"}

# C0 controls (but newline and tab) and DEL become their visible "control picture" (␛, ␇);
# C1 controls and the bidi overrides that reorder what a terminal shows become U+FFFD, and
# so do lone surrogates (a file name's undecodable bytes, JSON's "\ud800"), which no file or
# terminal can encode.
_PICTURES = {code: 0x2400 + code for code in range(0x20) if chr(code) not in "\n\t"} | {0x7F: 0x2421}
_HIDDEN = [*range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A), *range(0xD800, 0xE000),
           0x061C, 0x200E, 0x200F]  # and the bidi marks (Arabic letter mark, LRM, RLM)
SAFE = str.maketrans(_PICTURES | dict.fromkeys(_HIDDEN, 0xFFFD))


def safe_text(text: str) -> str:
    """`text` with no character that a terminal would act on (escape sequences, bells, …)."""
    return text.translate(SAFE)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """"1 answer", "2 answers", "0 answers": the count and its noun, agreeing."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def score_text(score: float) -> str:
    """A score as every page and file shows it: two decimals, never "-0.00" (a mark typed as
    "-0" is stored as -0.0)."""
    return f"{round(score, 2) + 0.0:.2f}"


def safe_line(text: str) -> str:
    """`safe_text` on one line: a newline shows as ␤, so a message stays one line."""
    return safe_text(text).replace("\n", "\u2424")


class SafeRichConsole(RichConsole):
    """Rich prints ESC and other controls inside text as they are; every renderable's text
    passes through `render`, so sanitising there covers tables, panels and plain strings.
    Style codes are added later, from each segment's style, and are not affected."""

    def render(self, renderable: RenderableType, options: ConsoleOptions | None = None) -> Iterator[Segment]:
        for segment in super().render(renderable, options):
            yield segment if segment.control else Segment(safe_text(segment.text), segment.style)


class Console:
    """Reads multi-line answers and prints rich output; swap the streams in tests."""

    def __init__(self, stdin: TextIO | None = None, stdout: IO[str] | None = None, width: int | None = None,
                 stderr: IO[str] | None = None):
        self.stdin = stdin or sys.stdin  # None when the process started with stdin closed
        self.out = SafeRichConsole(file=stdout, width=width, highlight=False, soft_wrap=False)
        # None: sys.stdout and sys.stderr as they are when written to (a test's capture sees them)
        self.stdout, self.stderr = stdout, stderr
        self.partial: list[str] = []  # lines typed so far, kept if the session is interrupted

    def print(self, *objects: Any, **kwargs: Any) -> None:
        self.out.print(*objects, **kwargs)

    def say(self, text: str) -> None:
        """A result (a report, a line of figures) as plain text on stdout: no markup, no wrapping."""
        print(safe_text(text), file=self.stdout or sys.stdout, flush=True)

    def warn(self, text: str) -> None:
        """What was skipped or went wrong, without stopping: one line on stderr, "tutor: …"."""
        print(f"tutor: {safe_line(text)}", file=self.stderr or sys.stderr, flush=True)

    def error(self, text: str) -> None:
        """Why the command stops: one line on stderr, "tutor: error: …"."""
        self.warn(f"error: {text}")

    def note(self, text: str) -> None:
        """How a long step is going, or why a check failed: one line on stderr, as it is."""
        print(safe_line(text), file=self.stderr or sys.stderr, flush=True)

    @contextmanager
    def progress(self, description: str, total: float | None,
                 unit: "Unit" = "answers") -> Iterator["Advance"]:
        """A progress bar while the block runs; the block calls what it gets with each step done.
        Answers stay on screen when done (with their rate); recordings, bytes and files go."""
        with Progress(*COLUMNS[unit](), transient=unit != "answers", console=self.out) as bar:
            task = bar.add_task(description, total=total)

            def advance(steps: float = 1) -> None:
                bar.advance(task, steps)
            yield advance

    def read_all(self) -> str:
        """Everything on stdin ("" when it is closed or empty)."""
        return self._read(lambda stream: stream.read())

    def read_line(self, prompt: str = "") -> str | None:
        """One line, or None at end of input."""
        if prompt:
            self.out.print(prompt, end="")
        line = self._read(lambda stream: stream.readline())
        return None if line == "" else line.rstrip("\n")

    def _read(self, how: Callable[[TextIO], str]) -> str:
        if self.stdin is None:
            return ""
        try:
            text = how(self.stdin)
            text.encode("utf-8")  # bytes that are not UTF-8 arrive as surrogates (surrogateescape)
        except UnicodeError:
            raise TutorError("stdin: the answer is not UTF-8 text") from None
        return text

    def read_answer(self, on_line: Callable[[str], None] | None = None) -> str | None:
        """Lines until a lone '.' (or /done), or end of input. None if nothing was typed.
        `on_line` hears the text so far after each line, while the learner goes on typing."""
        interactive = getattr(self.stdin, "isatty", lambda: False)()
        if interactive:
            self.out.print("[dim]Type your answer; finish with a line containing only '.' "
                           "(or Ctrl-D).[/dim]")
        self.partial = lines = []
        while (line := self.read_line("> " if interactive else "")) is not None:
            if line.strip() in END_MARKERS:
                break
            lines.append(line)
            if len(lines) == 1 and line.strip().startswith("/"):
                break  # a session command such as /skip
            if on_line:
                on_line("\n".join(lines))
        text = "\n".join(lines).strip()
        return text or None


class RateColumn(ProgressColumn):
    """Answers per minute, from rich's own moving speed estimate."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed * 60:.1f} answers/min" if task.speed else "— answers/min")


class Advance(Protocol):
    """What a progress block calls with each step done (an answer, a file, a number of bytes)."""

    def __call__(self, steps: float = 1) -> None: ...


Unit = Literal["answers", "recordings", "bytes", "files"]
COLUMNS: dict[Unit, Callable[[], tuple[ProgressColumn | str, ...]]] = {
    "answers": lambda: (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
                        TextColumn("ETA"), TimeRemainingColumn()),
    "recordings": lambda: (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                           TimeRemainingColumn()),
    "bytes": lambda: ("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                      TransferSpeedColumn()),
    "files": lambda: tuple(Progress.get_default_columns()),
}
