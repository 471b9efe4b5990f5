"""`tutor review`: the teacher's review page for a marks folder, in the browser."""

import contextlib
import getpass
import webbrowser
from pathlib import Path
from typing import Annotated

import typer

from tutor.core.console import safe_line, safe_text
from tutor.core.errors import TutorError
from tutor.edge.app import CourseOption, State, app


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment or the password database
        return "reviewer"


def _reviewer_name(given: str | None) -> str:
    """The name written into every override: text that encodes (bytes that are not UTF-8 in
    the command line would make each save fail), control characters shown as symbols."""
    name = " ".join(safe_text(given or _os_user()).split()) or "reviewer"
    if any(0xD800 <= ord(ch) < 0xE000 for ch in (given or "")):
        raise TutorError("--reviewer: not valid text (bytes that are not UTF-8); give the name as UTF-8")
    return name


@app.command("review")
def review(
    ctx: typer.Context,
    marks_dir: Annotated[Path, typer.Argument(help="A folder made by `tutor grade --out`.")],
    reviewer: Annotated[str | None, typer.Option(
        help="Your name in overrides.jsonl and feedback (default: your OS user name).")] = None,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Only print the URL.")] = False,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1 (0: any free one).")] = 0,
    course: CourseOption = None,
) -> None:
    """Review a batch's grades in the browser: change verdicts or marks, accept grades."""
    from tutor.teacher.review import ReviewServer

    state: State = ctx.obj.use_course(course)
    name = _reviewer_name(reviewer)
    server = ReviewServer(marks_dir, state.bank(), name, port)
    state.console.say(f"Reviewing {safe_line(str(marks_dir))} as {safe_line(name)} at {server.url}")
    state.console.say("Press Ctrl-C to stop.")
    if not no_browser:
        webbrowser.open(server.url)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn stops cleanly, then passes Ctrl-C on
        server.run()
    state.console.say("Review server stopped; overrides.jsonl and the outputs are saved.")
