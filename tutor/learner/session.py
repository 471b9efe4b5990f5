"""One learner session: what `ask`, `drill` and `explain` share.

A session loads the judge in the background while the first question is on screen, lets it
evaluate the question while the learner reads and grade the answer as it stands after each
finished line (so that Enter on the final '.' finds the grade ready or under way), shows the
verdicts as they arrive, reads the learner's replies and their command words, records every
attempt and reschedules its card, and applies one rule to Ctrl-C: everything typed is kept
(an answer not yet graded is saved as an ungraded attempt) and the session ends cleanly.
The three commands are policies over it: which question comes next, and what to say between
answers.

Replies come from an `Answers` source: typed lines (the console, the default) or speech
(`tutor.learner.voice`: record, transcribe, let the learner accept or edit the transcript).
Whatever the source, a reply is text and takes the same path from there.

The command words mean the same in every session:

    /hint   where to re-read for the question on screen; the question stays open
    /skip   move on; nothing is recorded and the card keeps its schedule
    /idk    "I don't know" (also: idk, dunno): a failed recall of the question on screen,
            recorded with score 0 so its card comes back soon; the tutor then shows what
            was missing (the reference answer, or the point the examiner asked about)
    /quit   end the session (so does Ctrl-D)
"""

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from types import TracebackType
from typing import NamedTuple, Protocol

from rich.console import Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.spinner import Spinner

from tutor.core.console import Console
from tutor.core.decide import Head
from tutor.core.feedback import reread_text, verdict_text
from tutor.core.grader import default_head, grade, prefill
from tutor.core.judges.base import Judge
from tutor.core.result import Band, Grade, Verdict
from tutor.core.rubric import Rubric
from tutor.learner.history import History
from tutor.learner.scheduler import review

log = logging.getLogger("tutor.session")

HELP = ("[dim]Finish an answer with a line holding only '.'. Commands: /hint (where to read), "
        "/skip, /idk (I don't know), /quit.[/dim]")


# What Ctrl-C keeps, said exactly: graded answers are in the history; an unfinished answer is
# saved there ungraded, and no later drill offers it back.
INTERRUPTED_KEPT = ("Answers graded before it are saved. The unfinished answer is saved in the history, "
                    "ungraded; no later session offers it back.")
INTERRUPTED_NOTHING = "Answers graded before it are saved; no unfinished answer was typed."


class Command(StrEnum):
    HINT = "/hint"
    SKIP = "/skip"
    IDK = "/idk"
    QUIT = "/quit"


SPELLINGS = {command.value: command for command in Command} | dict.fromkeys(
    ["idk", "i don't know", "i dont know", "dunno"], Command.IDK)


@dataclass(frozen=True)
class Reply:
    """What the learner typed: an answer, or one of the command words."""

    text: str
    command: Command | None = None

    @classmethod
    def parse(cls, text: str | None) -> "Reply":
        """End of input reads as /quit; "I don't know." is /idk, its full stop aside."""
        if text is None:
            return cls("", Command.QUIT)
        return cls(text, SPELLINGS.get(text.strip().lower().rstrip(".!")))


class Answers(Protocol):
    """Where the learner's replies come from."""

    @property
    def partial(self) -> list[str]:
        """The reply given so far and not yet submitted (kept if the session is interrupted)."""
        ...

    def read_answer(self, on_line: Callable[[str], None] | None = None) -> str | None:
        """The next reply (None at end of input); `on_line` hears the text so far whenever
        more of it is known, so the judge can work ahead."""
        ...

    def speak(self, text: str) -> None:
        """A question was put on screen: read it aloud, where this source does."""
        ...


class Typed:
    """Typed replies: lines on the console until a lone '.'."""

    def __init__(self, console: Console):
        self.console = console

    @property
    def partial(self) -> list[str]:
        return self.console.partial

    def read_answer(self, on_line: Callable[[str], None] | None = None) -> str | None:
        return self.console.read_answer(on_line=on_line)

    def speak(self, text: str) -> None:
        pass


class Loaded(NamedTuple):
    """The judge, once loaded, and the head chosen for it then."""

    judge: Judge
    head: Head


class Session:
    """The shared loop; use it as a context manager around one learner session."""

    def __init__(self, console: Console, history: History, load_judge: Callable[[], Judge],
                 kind: str, answers: Answers | None = None,
                 choose_head: Callable[[Judge], Head] = default_head):
        """`choose_head`: the head for the loaded judge, chosen once (the command's settings)."""
        self.console = console
        self.answers = answers or Typed(console)
        self.history = history
        self.kind = kind
        self.load_judge = load_judge
        self.choose_head = choose_head
        self.asking: list[Rubric] = []  # the question(s) on screen: /hint and Ctrl-C refer to them
        self._unsaved = ""  # answer text read and not yet recorded (a reply adds to it)
        self._reading = False
        self._pool = ThreadPoolExecutor(max_workers=1)  # loading, then prefills, in order
        self._loading: Future[Loaded] | None = None
        self._prefills: list[Future[None]] = []
        self.id = 0
        self.interrupted = False  # Ctrl-C ended the session (the command then exits 130)

    def __enter__(self) -> "Session":
        self.id = self.history.start_session(self.kind)
        self._loading = self._pool.submit(self._load)  # loads while the question is read
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> bool:
        """Ctrl-C ends the session quietly; any other error still keeps what was typed."""
        interrupted = self.interrupted = kind is KeyboardInterrupt
        kept = error is not None and self._keep_unsaved()
        if interrupted:
            said = INTERRUPTED_KEPT if kept else INTERRUPTED_NOTHING
            self.console.print(f"\n[yellow]Interrupted. {said}[/yellow]")
        elif kept:
            self.console.print("[yellow]Your answer is saved in the history, ungraded.[/yellow]")
        self.history.end_session(self.id)
        self._pool.shutdown(wait=not interrupted, cancel_futures=True)
        return interrupted

    def put(self, *rubrics: Rubric) -> None:
        """The question(s) now on screen; says so when the model is still loading."""
        self.asking = list(rubrics)
        if self._loading is not None and not self._loading.done():
            self.console.print("[dim]The model is loading in the background…[/dim]")
        self._prefill("")

    def read(self) -> Reply:
        """The learner's next reply; /hint is answered here and the question stays open."""
        while True:
            self._reading = True
            reply = Reply.parse(self.answers.read_answer(on_line=self._typed))
            self._reading = False
            if reply.command is None:
                self._unsaved = f"{self._unsaved}\n{reply.text}".strip()
            if reply.command is not Command.HINT:
                return reply
            for ref in {ref.label: ref for r in self.asking for ref in r.refs}.values():
                self.console.print(escape(reread_text(ref)))

    @property
    def spoken(self) -> bool:
        """The learner answers aloud (--voice, --audio): feedback says "you said"."""
        return bool(getattr(self.answers, "spoken", False))

    @property
    def help(self) -> str:
        """How to answer, for the session's start ("" when there is nothing to type)."""
        return str(getattr(self.answers, "help", HELP))

    def speak(self, text: str) -> None:
        """Read the question on screen aloud, when the learner answers by voice with --speak."""
        self.answers.speak(text)

    def _load(self) -> Loaded:
        judge = self.load_judge()
        return Loaded(judge, self.choose_head(judge))

    def loaded(self) -> Loaded:
        """The loaded judge and its head, waiting for them with a notice if not ready yet."""
        assert self._loading is not None, "use the session as a context manager"
        if not self._loading.done():
            with self.console.out.status("Waiting for the model to finish loading…"):
                return self._loading.result()
        return self._loading.result()

    def grade(self, rubric: Rubric, text: str, status: str = "Grading…") -> Grade:
        """Grade with the verdicts shown as they arrive (in a terminal; the final feedback
        replaces them)."""
        judge, head = self.loaded()
        self._cancel_prefills()
        shown: list[Verdict] = []
        view = partial(_grading_view, status, shown, self.spoken)
        with Live(view(), console=self.console.out, transient=True) as live:
            def hear(verdict: Verdict) -> None:
                shown.append(verdict)
                live.update(view())
            return grade(rubric, text, judge, head, on_verdict=hear)

    def _typed(self, text: str) -> None:
        """A line was finished: what would be graded now is the text not yet recorded (an answer
        awaiting a clarifying reply) followed by what was typed."""
        self._prefill(f"{self._unsaved}\n{text}".strip())

    def _prefill(self, text: str) -> None:
        """Let the judge start on the answer so far, in the background, after the model loads."""
        if self._loading is None or not self.asking:
            return
        self._prefills.append(self._pool.submit(self._run_prefill, self.asking[0], text))

    def _run_prefill(self, rubric: Rubric, text: str) -> None:
        assert self._loading is not None
        try:
            prefill(rubric, text, self._loading.result().judge)
        except Exception as exc:  # a hint only: the grade itself reports any real problem
            log.info("prefill skipped: %s", exc)

    def _cancel_prefills(self) -> None:
        """At Enter, work queued for older text is of no use any more."""
        for future in self._prefills:
            future.cancel()
        self._prefills = [f for f in self._prefills if not f.done()]

    def record(self, rubric: Rubric, text: str, result: Grade, kind: str | None = None) -> None:
        """Save the attempt; a graded one reschedules the question's card."""
        self.history.record(self.id, kind or self.kind, text, result)
        if result.status == "graded":
            review(self.history, result)
        self._unsaved = ""

    def dont_know(self, rubric: Rubric, text: str) -> Grade:
        """/idk: a failed recall of `rubric`, recorded and scheduled like any answer."""
        result = Grade(question_id=rubric.id, score=0.0, band=Band.FAIL, mode="none",
                       notices=["You said you don't know."], pointer=rubric.pointer,
                       rubric_version=rubric.version)
        self.record(rubric, text, result, kind="idk")
        return result

    def _keep_unsaved(self) -> bool:
        """Text typed and not yet recorded is saved, ungraded, for the question(s) on screen."""
        typing = "\n".join(self.answers.partial) if self._reading else ""
        text = f"{self._unsaved}\n{typing}".strip()
        for rubric in self.asking if text else []:
            kept = Grade.ungraded(rubric.id, "session ended before grading")
            self.history.record(self.id, self.kind, text, kept)
        self._unsaved = ""
        return bool(text and self.asking)


def _grading_view(status: str, verdicts: list[Verdict], said: bool) -> RenderableType:
    """What the learner sees while grading runs: a spinner, then each verdict as it arrives."""
    lines = [f"{'[green]✓[/green]' if right else '[red]✗[/red]'} {escape(text)}"
             for right, text in filter(None, (verdict_text(v, said) for v in verdicts))]
    return Group(Spinner("dots", status), *lines)
