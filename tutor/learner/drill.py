"""`tutor drill`: today's typed-answer session with spaced repetition."""

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from rich.markup import escape
from rich.table import Table

from tutor.core.console import Console
from tutor.core.explainer_doc import Explainer
from tutor.core.feedback import clarifying_question, render
from tutor.core.grader import grade
from tutor.core.result import Band, Grade
from tutor.core.rubric import Rubric
from tutor.learner.history import History
from tutor.learner.scheduler import next_due, review

HELP = ("[dim]Finish an answer with a line holding only '.'. Commands: /skip, /idk (I don't know),"
        " /hint (where to read), /quit.[/dim]")
IDK = {"/idk", "idk", "i don't know", "i dont know", "dunno"}


@dataclass
class Drill:
    console: Console
    history: History
    load_judge: Callable
    explainer: Explainer | None = None
    kind: str = "drill"
    results: list[tuple[Rubric, Grade | None]] = field(default_factory=list)

    def run(self, queue: list[Rubric]) -> None:
        session = self.history.start_session(self.kind)
        self.console.print(HELP)
        with ThreadPoolExecutor(max_workers=1) as pool:
            loading = pool.submit(self.load_judge)  # loads while the first question is on screen
            try:
                for number, rubric in enumerate(queue, 1):
                    if not self._ask(session, rubric, f"{number}/{len(queue)}", loading):
                        break
            except KeyboardInterrupt:
                self._keep_partial(session, queue[len(self.results)] if len(self.results) < len(queue)
                                   else None)
                self.console.print("\n[yellow]Interrupted: every answer so far is saved.[/yellow]")
            finally:
                self.history.end_session(session)
        self.summary()

    def _ask(self, session: int, rubric: Rubric, position: str, loading: Future) -> bool:
        """One question; False when the learner quits."""
        self.console.print(f"\n[bold]{position} · {rubric.id}[/bold] ({rubric.day.value}) "
                           f"{escape(rubric.prompt)}")
        if not loading.done():
            self.console.print("[dim]The model is loading in the background…[/dim]")
        while True:
            text = self.console.read_answer()
            command = (text or "").strip().lower()
            if text is None or command == "/quit":
                return False
            if command == "/hint":
                self.console.print(f"Re-read explainer {escape(rubric.pointer)}")
                continue
            if command == "/skip":
                self.results.append((rubric, None))
                return True
            if command in IDK:
                self._idk(session, rubric, text)
                return True
            self._grade(session, rubric, text, loading)
            return True

    def _grade(self, session: int, rubric: Rubric, text: str, loading: Future) -> None:
        if not loading.done():
            with self.console.out.status("Waiting for the model to finish loading…"):
                loading.result()
        with self.console.out.status("Grading…"):
            result = grade(rubric, text, loading.result())
        text, result = self._clarify(rubric, text, result, loading.result())
        self._save(session, rubric, text, result)
        self.console.print(render(rubric, result, self.explainer))

    def _clarify(self, rubric: Rubric, text: str, result: Grade, judge) -> tuple[str, Grade]:
        """When the grader is unsure of the band, ask the learner one question instead of
        guessing, and grade the answer with the reply added."""
        question = clarifying_question(rubric, result, text) if result.review else None
        if question is None:
            return text, result
        self.console.print(f"[yellow]Before I grade this:[/yellow] {escape(question)}")
        reply = self.console.read_answer()
        if reply is None or not reply.strip() or reply.strip().startswith("/"):
            return text, result
        combined = f"{text}\n{reply}"
        with self.console.out.status("Grading…"):
            return combined, grade(rubric, combined, judge)

    def _idk(self, session: int, rubric: Rubric, text: str) -> None:
        result = Grade(question_id=rubric.id, score=0.0, band=Band.FAIL, mode="none",
                       notices=["You said you don't know."], pointer=rubric.pointer,
                       rubric_version=rubric.version)
        self._save(session, rubric, text, result, kind="idk")
        self.console.print(f"Re-read explainer {escape(rubric.pointer)}\n"
                           f"[bold]Reference answer:[/bold] {escape(rubric.reference_answer)}")

    def _save(self, session: int, rubric: Rubric, text: str, result: Grade, kind: str | None = None):
        self.history.record(session, kind or self.kind, text, result)
        if result.status == "graded":
            review(self.history, result)
        self.results.append((rubric, result))

    def _keep_partial(self, session: int, rubric: Rubric | None) -> None:
        """Text typed before Ctrl-C is saved (ungraded), never lost."""
        text = "\n".join(self.console.partial).strip()
        if rubric and text:
            kept = Grade.ungraded(rubric.id, "session interrupted before grading")
            self.history.record(session, self.kind, text, kept)

    def summary(self) -> None:
        if not self.results:
            return
        table = Table("question", "score", "band", "re-read", title="Session summary")
        for rubric, result in self.results:
            if result is None:
                table.add_row(rubric.id, "—", "skipped", "")
            elif result.status == "ungraded":
                table.add_row(rubric.id, "—", "ungraded", escape(result.reason or ""))
            else:
                reread = escape(rubric.pointer) if result.band != Band.FULL else ""
                score, band = result.decided
                table.add_row(rubric.id, f"{score:.2f}", band.value, reread)
        self.console.print(table)
        due = next_due(self.history)
        if due:
            self.console.print(f"Next review due: {due.astimezone():%Y-%m-%d %H:%M}")
