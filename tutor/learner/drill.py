"""`tutor drill` and `tutor ask`: questions in order, one typed answer each, feedback after each.

The policy over a `Session`: show the question, grade the answer (asking one clarifying
question first when the grader is unsure of the band), show the feedback; `/idk` shows the
reference answer. `ask` is a drill of one question."""

from dataclasses import dataclass, field

from rich.markup import escape
from rich.table import Table

from tutor.core.explainer_doc import Explainer
from tutor.core.feedback import clarifying_question, render, reread_text
from tutor.core.result import Band, Grade
from tutor.core.rubric import Rubric
from tutor.learner.scheduler import next_due
from tutor.learner.session import Command, Session


@dataclass
class Drill:
    session: Session
    explainer: Explainer | None = None
    results: list[tuple[Rubric, Grade | None]] = field(default_factory=list)  # None: skipped

    def run(self, queue: list[Rubric]) -> None:
        """The whole session, then its summary (Ctrl-C ends it early, nothing lost)."""
        with self.session:
            if self.session.help:
                self.session.console.print(self.session.help)
            for number, rubric in enumerate(queue, 1):
                if not self.answer(rubric, f"{number}/{len(queue)} · "):
                    break
        self.summary()

    def answer(self, rubric: Rubric, position: str = "") -> bool:
        """One question inside a running session; False when the learner quits."""
        console = self.session.console
        console.print(f"\n[bold]{position}{rubric.id}[/bold] ({rubric.day.value}) {escape(rubric.prompt)}")
        self.session.put(rubric)
        self.session.speak(rubric.prompt)
        reply = self.session.read()
        if reply.command is Command.QUIT:
            return False
        if reply.command is Command.SKIP:
            self.results.append((rubric, None))
        elif reply.command is Command.IDK:
            self.results.append((rubric, self.session.dont_know(rubric, reply.text)))
            for ref in rubric.refs:
                console.print(escape(reread_text(ref, self.explainer)))
            console.print(f"[bold]Reference answer:[/bold] {escape(rubric.reference_answer)}")
        else:
            self.results.append((rubric, self._grade(rubric, reply.text)))
        return True

    def _grade(self, rubric: Rubric, text: str) -> Grade:
        result = self.session.grade(rubric, text)
        text, result = self._clarify(rubric, text, result)
        self.session.record(rubric, text, result)
        self.session.console.print(render(rubric, result, self.explainer, said=self.session.spoken))
        return result

    def _clarify(self, rubric: Rubric, text: str, result: Grade) -> tuple[str, Grade]:
        """When the grader is unsure of the band, ask the learner one question instead of
        guessing, and grade the answer with the reply added."""
        question = clarifying_question(rubric, result, text, self.session.spoken) if result.review else None
        if question is None:
            return text, result
        self.session.console.print(f"[yellow]Before I grade this:[/yellow] {escape(question)}")
        self.session.speak(question)
        reply = self.session.read()
        if reply.command or not reply.text.strip():
            return text, result
        combined = f"{text}\n{reply.text}"
        return combined, self.session.grade(rubric, combined)

    def summary(self) -> None:
        """A table of the answers (one answer's feedback is already on screen), then the next
        review."""
        if not self.results:
            return
        if len(self.results) > 1:
            table = Table("question", "score", "band", "re-read", title="Session summary")
            for rubric, result in self.results:
                table.add_row(rubric.id, *_summary_cells(rubric, result))
            self.session.console.print(table)
        due = next_due(self.session.history)
        if due:
            self.session.console.print(f"Next review due: {due.astimezone():%Y-%m-%d %H:%M}")


def _summary_cells(rubric: Rubric, result: Grade | None) -> tuple[str, str, str]:
    if result is None:
        return "—", "skipped", ""
    if result.status == "ungraded":
        return "—", "ungraded", escape(result.reason or "")
    score, band = result.decided
    return f"{score:.2f}", band.value, escape(rubric.pointer) if band != Band.FULL else ""
