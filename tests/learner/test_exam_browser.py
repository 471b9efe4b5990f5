"""The exam report in a real browser: Debian's Chromium (headless) driven by Playwright, as the
review page's test does. The page renders its charts, shows the learner's hostile text as text,
and raises no script error (it has no script at all)."""

import os

from tests.edge.test_review_browser import chromium
from tests.learner.test_exam import GQA, HOSTILE, exam_with, judge_of
from tutor.learner.exam_report import build, write_html
from tutor.learner.history import History


def test_the_report_renders_its_charts_and_the_escaped_text_without_script_errors(bank, tmp_path):
    history = History(tmp_path / "h.db")
    _, first, _ = exam_with(bank, "/idk\n/idk\n", judge_of(), ids=(GQA, "w06-thu-5"), history=history)
    typed = f"{HOSTILE}\n.\nQuery heads form groups.\n.\n/skip\n"
    _, second, _ = exam_with(bank, typed, judge_of(shares_query=0.99, groups=0.01), ids=(GQA, "w06-thu-5"),
                             history=history)
    path = write_html(build(second, bank, [first, second]), tmp_path / "exam.html")
    errors: list[str] = []
    dialogs: list[str] = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        assert page.locator("#chart-marks svg rect").count() == 2  # one bar per exam kept
        assert page.locator("#chart-missed svg rect").count() >= 1
        assert page.locator("#chart-marks").bounding_box()["height"] > 50  # drawn, not collapsed
        assert page.locator("script").count() == 0 and page.locator("section.q b").count() == 0
        first_turn = page.locator("#q1 .turn.learner").first.inner_text()
        assert first_turn == f"You: {HOSTILE}"
        assert "Change:" in page.locator("#mark").inner_text()
        assert page.locator("#reread li").count() >= 1
        page.screenshot(path=os.environ.get("TUTOR_SCREENSHOT") or str(tmp_path / "exam.png"), full_page=True)
        page.close()
    assert errors == [] and dialogs == []
