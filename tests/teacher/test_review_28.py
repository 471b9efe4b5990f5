"""Issue 28 (8): bidi controls and long names on the review page and in report.html."""

import re

from tests.html_page import Page
from tests.teacher.test_review_app import PORT, client, make_marks
from tutor.teacher.review import Site

RLO, PDF, RLM, LRI = "\u202e", "\u202c", "\u200f", "\u2066"
SPOOF = f"{RLO}BG 041{PDF} of KV cache for GQA"  # a browser would show "140 GB"
LONG = "x" * 10_000


def _title(html):
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1)


def _pages(bank, tmp_path, student, answer):
    out = make_marks(bank, tmp_path, [(student, "w06-thu-4", answer)])
    test = client(Site(out, bank, f"{RLO}rev", PORT))
    return out, test.get("/").text, test.get("/answer", params={"s": student, "q": "w06-thu-4"}).text


def test_bidi_controls_in_an_answer_and_a_name_show_as_marks_and_are_isolated(bank, tmp_path):
    out, listing, answer = _pages(bank, tmp_path, f"{RLO}ann", SPOOF + f" {RLM}{LRI}")
    for html in (listing, answer, (out / "report.html").read_text()):
        page = Page(html)
        assert not {RLO, PDF, RLM, LRI} & set(page.text), "a bidi control reached the page"
        assert "\ufffdann" in page.text or "\ufffdann" in html
    page = Page(answer)
    assert "\ufffdBG 041\ufffd of KV cache" in page.text
    assert "bdi" in page.tags and "unicode-bidi: isolate" in answer
    assert re.search(r'<div class="answer" id="answer"><bdi>', answer)
    title = _title(answer)
    assert RLO not in title and "\u2068\ufffdann\u2069" in title  # isolated: the heading stays put
    feedback = next((out / "feedback").iterdir()).read_text()
    assert not {RLO, PDF, RLM, LRI} & set(feedback)


def test_a_10kb_name_is_cut_on_the_page_and_kept_whole_in_its_title_attribute(bank, tmp_path):
    _, listing, answer = _pages(bank, tmp_path, LONG, "GQA shares KV heads")
    for html in (listing, answer):
        assert LONG not in Page(html).text and "x" * 60 + "…" in Page(html).text
        assert f'title="{LONG}"' in html
        assert "overflow-wrap: anywhere" in html
    assert len(_title(answer)) < 200
