"""All interactive I/O goes through one `Console`, so tests can drive sessions."""

import sys

from rich.console import Console as RichConsole

END_MARKERS = {".", "/done"}


class Console:
    """Reads multi-line answers and prints rich output; swap the streams in tests."""

    def __init__(self, stdin=None, stdout=None, width: int | None = None):
        self.stdin = stdin or sys.stdin
        self.out = RichConsole(file=stdout, width=width, highlight=False, soft_wrap=False)
        self.partial: list[str] = []  # lines typed so far, kept if the session is interrupted

    def print(self, *objects, **kwargs) -> None:
        self.out.print(*objects, **kwargs)

    def read_line(self, prompt: str = "") -> str | None:
        """One line, or None at end of input."""
        if prompt:
            self.out.print(prompt, end="")
        line = self.stdin.readline()
        return None if line == "" else line.rstrip("\n")

    def read_answer(self) -> str | None:
        """Lines until a lone '.' (or /done), or end of input. None if nothing was typed."""
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
        text = "\n".join(lines).strip()
        return text or None
