"""The console's channels: results on stdout, warnings and notes on stderr, one line each."""

import io

from tutor.core.console import Console


def channels() -> tuple[Console, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Console(stdout=out, stderr=err, width=80), out, err


def test_warnings_and_notes_are_one_line_on_stderr_and_results_plain_on_stdout():
    console, out, err = channels()
    console.warn("skipped a.csv:2: two\nlines \x1b[31m")
    console.note("without x: fit on 3 answers")
    console.say("| metric | [bold]run[/bold] |\n|---|")
    assert err.getvalue().splitlines() == ["tutor: skipped a.csv:2: two\u2424lines \u241b[31m",
                                           "without x: fit on 3 answers"]
    assert out.getvalue() == "| metric | [bold]run[/bold] |\n|---|\n"  # no markup read, no wrapping


def test_warnings_follow_a_stream_swapped_after_the_console_was_made(capsys):
    console = Console()
    console.warn("late")
    console.say("result")
    assert capsys.readouterr() == ("result\n", "tutor: late\n")


def test_progress_counts_what_the_block_reports():
    console, out, _ = channels()
    with console.progress("grading", 3) as advance:
        for _ in range(3):
            advance()
    assert "grading" in out.getvalue() and "3/3" in out.getvalue()  # answers stay on screen
    console, out, _ = channels()
    with console.progress("assembling x", 10, "bytes") as advance:
        advance(10)
    assert out.getvalue().strip() == ""  # a download's bar goes when done
