"""The review page in a real browser: Debian's Chromium (headless) driven by Playwright, against
the real server on a real port. Keyboard review, reload, and the files agree with the page; two
tabs editing at once lose nothing; `tutor review` stops cleanly on Ctrl-C.

Never downloads a browser: Playwright drives /usr/bin/chromium. Both are installed by
scripts/install.sh; when either is missing these tests fail and say so."""

import contextlib
import csv
import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tutor.core.grader import overruled
from tutor.core.judges.fake import FakeJudge
from tutor.core.result import Outcome
from tutor.teacher.batch.command import grade_submissions
from tutor.teacher.batch.outputs import write_marks
from tutor.teacher.overrides import load, results
from tutor.teacher.review import ReviewServer

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
HOW = ("run scripts/install.sh (it installs Playwright for Python into .venv and Debian's chromium "
       "as /usr/bin/chromium); never `playwright install`")
GQA = "GQA shares one key value head per group of query heads, so the KV cache is smaller."
QUESTION = "w06-thu-4"  # points in page order: 1 mqa-one-kv-head, 2 gqa-groups, 3 kv-cache-shrinks, …


@contextlib.contextmanager
def chromium():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(f"Playwright for Python is missing: {HOW}")
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: {HOW}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def make_marks(bank, tmp_path):
    path = tmp_path / "class.csv"
    rows = [("ann", QUESTION, GQA), ("bob", QUESTION, GQA + " MQA too."),
            ("cy", "w06-fri-3", "131,072 params")]
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("student", "question", "answer"), *rows])
    out = tmp_path / "marks"
    grade_submissions(bank, lambda: FakeJudge(default=0.1), [path], out)
    # bob is the most doubtful, then ann: the list's order
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    for row in lines:
        sure = {"ann": 0.55, "bob": 0.35, "cy": None}[row["student"]]
        row["grade"] |= {"review": sure is not None, "band_probability": sure}
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    write_marks(out, bank)  # the outputs made from the edited results, as `tutor grade` would have
    return out


@pytest.fixture
def served(bank, tmp_path):
    server = ReviewServer(make_marks(bank, tmp_path), bank, "Ms T", 0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    yield server
    server.stop()
    thread.join(10)


def gradebook(marks):
    with (marks / "gradebook.csv").open(newline="", encoding="utf-8") as handle:
        return {r["student"]: r for r in csv.DictReader(handle)}


def expected_score(bank, marks, student, outcomes):
    row = next(r for r in results(marks) if r.student == student)
    return overruled(bank.get(QUESTION), row.answer, row.grade, outcomes).score


def now_score(page):
    return page.locator("#now strong").first.inner_text()


def press(page, key):
    """A key that submits a form or follows a link: wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press(key)


def test_review_with_the_keyboard_and_the_files_agree_with_the_page(bank, served, tmp_path):
    marks = served.site.marks_dir
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(served.url)
        assert "token" not in page.url  # kept in a cookie, out of the address bar and history
        page.select_option("#f-question", QUESTION)
        with page.expect_navigation():
            page.click("#f-submit")
        assert page.locator("tr.entry a.open").all_inner_texts() == ["bob", "ann"]
        page.keyboard.press("j")
        press(page, "Enter")
        assert page.locator("h1").inner_text() == f"bob · {QUESTION}"

        page.keyboard.press("2")
        press(page, "y")  # gqa-groups: stated
        assert re.search(r"#p2$", page.url) and page.locator("tr.point.selected").get_attribute("id") == "p2"
        page.click("#reason")
        page.keyboard.type("jky1a")  # typing in a field is text, never a shortcut
        assert page.locator("#reason").input_value() == "jky1a"
        page.reload()

        [override], problems = load(marks)
        assert (override.student, override.point_id, override.new, override.reviewer) == \
            ("bob", "gqa-groups", "hit", "Ms T")
        assert page.locator("#p2 td.now").inner_text().startswith("stated")
        score = expected_score(bank, marks, "bob", {"gqa-groups": Outcome.HIT})
        assert now_score(page) == f"{score:.2f}" and score > 0
        book = gradebook(marks)["bob"]
        assert float(book[QUESTION]) == score and book["changed by reviewer"] == QUESTION
        assert book["needs review"] == ""
        page.keyboard.press("?")
        assert page.locator("#help").is_visible()
        page.keyboard.press("Escape")
        shot = os.environ.get("TUTOR_SCREENSHOT") or str(tmp_path / "review.png")
        page.screenshot(path=shot, full_page=True)

        press(page, "j")  # next in the filtered order: ann
        assert page.locator("h1").inner_text() == f"ann · {QUESTION}"
        page.keyboard.press("m")
        page.keyboard.type("0.65")
        page.keyboard.press("Tab")
        page.keyboard.type("explained it in the oral follow-up")
        press(page, "Enter")
        assert now_score(page) == "0.65" and float(gradebook(marks)["ann"][QUESTION]) == 0.65


def test_two_tabs_editing_at_once_lose_nothing(bank, served):
    marks = served.site.marks_dir
    with chromium() as browser:
        context = browser.new_context()
        first, second = context.new_page(), context.new_page()
        first.goto(served.url)
        answer = f"/answer?s=ann&q={QUESTION}"
        base = first.url.rstrip("/")
        for tab in (first, second):  # both loaded before either edits
            tab.goto(base + answer)
        first.keyboard.press("1")
        press(first, "y")  # mqa-one-kv-head
        second.keyboard.press("3")
        press(second, "y")  # kv-cache-shrinks, from a page that did not show the first change
        other = context.new_page()
        other.goto(base + f"/answer?s=bob&q={QUESTION}")
        press(other, "a")

        found, problems = load(marks)
        assert problems == []
        assert [(o.student, o.change, o.point_id) for o in found] == [("ann", "point", "mqa-one-kv-head"),
                                                                      ("ann", "point", "kv-cache-shrinks"),
                                                                      ("bob", "accept", None)]
        both = {"mqa-one-kv-head": Outcome.HIT, "kv-cache-shrinks": Outcome.HIT}
        score = expected_score(bank, marks, "ann", both)
        second.reload()
        assert [second.locator(f"#p{n} td.now").inner_text().split()[0] for n in (1, 3)] == ["stated"] * 2
        assert now_score(second) == f"{score:.2f}"
        assert float(gradebook(marks)["ann"][QUESTION]) == score
        assert gradebook(marks)["bob"]["needs review"] == ""  # accepted in the third tab


def test_tutor_review_prints_its_url_serves_and_stops_on_ctrl_c(bank, tmp_path):
    marks = make_marks(bank, tmp_path)
    command = [sys.executable, "-m", "tutor", "review", str(marks), "--no-browser", "--reviewer", "Ms T"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = server.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/\?token=\S+", first)
        assert url, first
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with opener.open(url.group(0), timeout=10) as response:
            assert response.status == 200 and "Answers, most doubtful first" in response.read().decode()
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=20)
    assert server.returncode == 0, output
    assert "stopped" in output and "Traceback" not in output


def test_tutor_review_of_a_folder_without_results_is_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "tutor", "review", str(tmp_path), "--no-browser"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("tutor: error: ") and "not a marks folder" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
