"""The review page over HTTP (Starlette's test client): who may use it, what it lists and in
which order, and that a change is appended, regenerates the outputs and shows escaped."""

import csv
import json
import re

import pytest
from starlette.testclient import TestClient

from tests.html_page import Page
from tutor.core.errors import TutorError
from tutor.core.judges.fake import FakeJudge
from tutor.teacher.batch.command import grade_submissions
from tutor.teacher.overrides import OVERRIDES, append, load, made_now, results
from tutor.teacher.review import Site, create_app

PORT = 8123
GQA = "GQA shares one key value head per group of query heads, so the KV cache is smaller."
HOSTILE = "<script>alert('x')</script> {{ 7*7 }} {% raw %} **bold** [link](javascript:alert(1)) GQA"


def make_marks(bank, tmp_path, rows):
    path = tmp_path / "class.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("student", "question", "answer"), *rows])
    out = tmp_path / "marks"
    grade_submissions(bank, lambda: FakeJudge(default=0.1), [path], out)
    return out


def set_doubt(out, doubts):
    """Give rows the review flag and band probability the grader would have (by student)."""
    rows = raw_rows(out)
    for row in rows:
        review, sure = doubts[row["student"]]
        row["review"] = review
        row["grade"] |= {"review": review, "band_probability": sure}
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def raw_rows(out):
    """results.jsonl's lines as JSON objects, to change and write back."""
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


def client(site, host=f"127.0.0.1:{PORT}", login=True):
    test = TestClient(create_app(site), base_url=f"http://{host}")
    if login:
        assert test.get(f"/?token={site.token}").status_code == 200
    return test


@pytest.fixture
def marks(bank, tmp_path):
    out = make_marks(bank, tmp_path, [("ann", "w06-thu-4", GQA), ("bob", "w06-thu-4", GQA),
                                      ("cy", "w06-fri-3", "131,072 params"), ("dee", "w06-thu-4", GQA)])
    set_doubt(out, {"ann": (True, 0.6), "bob": (True, 0.3), "cy": (False, 0.2), "dee": (False, None)})
    return out


@pytest.fixture
def site(bank, marks):
    return Site(marks, bank, "Ms T", PORT)


def listed(page):
    """(student, question) of each row of the list page, in order."""
    opened = r'<a class="open" href="[^"]*"><bdi class="name">([^<]*)</bdi></a></td>'
    return re.findall(opened + r'\s*<td>([^<]*)</td>', page)


def form_fields(page):
    return dict(re.findall(r'name="(csrf|answer_sha256|rubric_version)" value="([^"]*)"', page))


def post(test, path, who, qid, **fields):
    page = test.get("/answer", params={"s": who, "q": qid}).text
    return test.post(path, data={**form_fields(page), "s": who, "q": qid, **fields}, follow_redirects=False)


def test_every_request_needs_the_token_and_the_url_loses_it(site):
    test = client(site, login=False)
    assert test.get("/").status_code == 403
    assert test.get("/answer", params={"s": "ann", "q": "w06-thu-4"}).status_code == 403
    assert test.get("/?token=wrong").status_code == 403
    first = test.get(f"/?token={site.token}&band=fail", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/?band=fail"
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and f"tutor_review_{PORT}=" in cookie
    assert test.get("/").status_code == 200  # the cookie from now on


def test_a_request_for_another_host_is_refused_even_with_the_token(site):
    for host in ("evil.example:8123", f"127.0.0.1:{PORT + 1}", "127.0.0.1"):
        test = client(site, host=host, login=False)
        test.cookies.set(site.cookie, site.token)
        assert test.get(f"/?token={site.token}").status_code == 421, host
        assert test.get("/").status_code == 421, host
    assert client(site, host=f"localhost:{PORT}").get("/").status_code == 200


def test_a_post_without_the_form_secret_or_the_cookie_saves_nothing(site, marks):
    test = client(site)
    page = test.get("/answer", params={"s": "ann", "q": "w06-thu-4"}).text
    fields = form_fields(page) | {"s": "ann", "q": "w06-thu-4"}
    assert test.post("/accept", data=fields | {"csrf": "forged"}).status_code == 403
    stranger = client(site, login=False)
    assert stranger.post("/accept", data=fields).status_code == 403
    assert not (marks / OVERRIDES).exists()


def test_the_list_puts_needs_review_first_then_the_least_sure(site):
    assert listed(client(site).get("/").text) == [
        ("bob", "w06-thu-4"), ("ann", "w06-thu-4"), ("cy", "w06-fri-3"), ("dee", "w06-thu-4")]


def test_filters_by_question_band_student_and_needs_review(site, bank, marks):
    test = client(site)
    assert [s for s, _ in listed(test.get("/?question=w06-fri-3").text)] == ["cy"]
    assert [s for s, _ in listed(test.get("/?review=1").text)] == ["bob", "ann"]
    assert [s for s, _ in listed(test.get("/?student=AN").text)] == ["ann"]
    bands = {row.student: row.band for row in results(marks)}
    assert len(set(bands.values())) == 2  # cy's number is right: not the others' band
    for band in ("fail", "partial", "full"):
        expected = [s for s in ("bob", "ann", "cy", "dee") if bands[s] == band]
        assert [s for s, _ in listed(test.get(f"/?band={band}").text)] == expected
    page = test.get("/?question=w06-thu-4&review=1").text
    assert [s for s, _ in listed(page)] == ["bob", "ann"]
    assert 'value="w06-thu-4" selected' in page and 'id="f-review" checked' in page


def test_next_and_previous_follow_the_filtered_order(site):
    test = client(site)
    page = test.get("/answer", params={"s": "ann", "q": "w06-thu-4", "question": "w06-thu-4"}).text
    assert 'href="/answer?s=bob&amp;q=w06-thu-4&amp;question=w06-thu-4" id="prev"' in page
    assert 'href="/answer?s=dee&amp;q=w06-thu-4&amp;question=w06-thu-4" id="next"' in page
    assert "2 of 3" in page


def test_a_point_override_is_appended_and_the_outputs_regenerated(site, marks):
    test = client(site)
    answer = test.post("/point", data={}, follow_redirects=False)
    assert answer.status_code == 403  # no form secret
    done = post(test, "/point", "ann", "w06-thu-4", point_id="gqa-groups", outcome="hit", index="2",
                question="w06-thu-4")
    assert done.status_code == 303
    assert done.headers["location"] == "/answer?s=ann&q=w06-thu-4&question=w06-thu-4#p2"
    [override], problems = load(marks)
    assert (override.reviewer, override.point_id, override.old, override.new) == \
        ("Ms T", "gqa-groups", "miss", "hit")
    with (marks / "gradebook.csv").open(newline="") as handle:
        book = {r["student"]: r for r in csv.DictReader(handle)}
    assert book["ann"]["changed by reviewer"] == "w06-thu-4" and float(book["ann"]["w06-thu-4"]) > 0
    assert book["ann"]["needs review"] == ""  # a person looked
    report = (marks / "report.html").read_text()
    assert "Marks changed by a reviewer (1)" in report and "Ms T" in report
    page = test.get(done.headers["location"]).text
    assert re.search(r'id="p2"[^>]*>.*?<td class="now">stated <span class="flag changed">person', page, re.S)
    assert "applied" in page.split("Overrides of this answer")[1]
    assert listed(test.get("/?review=1").text) == [("bob", "w06-thu-4")]  # ann: a person looked


def test_a_mark_needs_a_number_from_0_to_1_and_a_reason(site, marks):
    test = client(site)
    assert post(test, "/mark", "ann", "w06-thu-4", score="0.7", reason=" ").status_code == 400
    assert post(test, "/mark", "ann", "w06-thu-4", score="1.7", reason="r").status_code == 400
    assert post(test, "/mark", "ann", "w06-thu-4", score="nan", reason="r").status_code == 400
    assert not (marks / OVERRIDES).exists()
    assert post(test, "/mark", "ann", "w06-thu-4", score="0,7", reason="oral follow-up").status_code == 303
    page = test.get("/answer", params={"s": "ann", "q": "w06-thu-4"}).text
    assert "<strong>0.70</strong>" in page and "mark by Ms T: oral follow-up" in Page(page).text


def test_accept_clears_needs_review_and_the_order_stays_put(site, marks):
    test = client(site)
    before = listed(test.get("/").text)
    assert post(test, "/accept", "bob", "w06-thu-4", review="1").status_code == 303
    assert [o.change for o in load(marks)[0]] == ["accept"]
    assert listed(test.get("/").text) == before  # the grader's doubt orders; a review does not move it
    assert listed(test.get("/?review=1").text) == [("ann", "w06-thu-4")]
    page = test.get("/answer", params={"s": "bob", "q": "w06-thu-4", "review": "1"}).text
    assert "no longer in this filter" in page  # and next still leads on, to ann
    assert 'href="/answer?s=ann&amp;q=w06-thu-4&amp;review=1" id="next"' in page


def test_a_change_to_an_answer_graded_again_since_the_page_loaded_is_refused(site, marks):
    test = client(site)
    page = test.get("/answer", params={"s": "ann", "q": "w06-thu-4"}).text
    rows = raw_rows(marks)
    rows[0]["answer"] += " resubmitted"
    (marks / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    sent = test.post("/accept", data=form_fields(page) | {"s": "ann", "q": "w06-thu-4"})
    assert sent.status_code == 409 and not (marks / OVERRIDES).exists()


def test_stale_overrides_show_in_the_list_and_on_the_answer(site, marks):
    row = next(r for r in results(marks) if r.student == "cy")
    older = row.model_copy(update={"answer": "an older answer"})
    append(marks, made_now(older, "Mr Old", "mark", new=1.0, reason="r"))
    test = client(site)
    assert "1 stale override<" in test.get("/").text
    page = test.get("/answer", params={"s": "cy", "q": "w06-fri-3"}).text
    assert "the answer changed since the review" in page and "Mr Old" in page


def test_hostile_student_text_is_escaped_and_never_in_the_script(bank, tmp_path):
    out = make_marks(bank, tmp_path, [("<img src=x onerror=alert(1)>", "w06-thu-4", HOSTILE)])
    site = Site(out, bank, "<b>rev</b>", PORT)
    test = client(site)
    name = "<img src=x onerror=alert(1)>"
    for html in (test.get("/").text,
                 test.get("/answer", params={"s": name, "q": "w06-thu-4"}).text):
        page = Page(html)
        assert "img" not in page.tags and name in page.text  # shown as typed, not as markup
        assert "<b>rev</b>" in page.text
        assert len(page.scripts) == 1 and "alert" not in page.scripts[0]
    # shown as typed: not run, not rendered as a template, not rendered as Markdown
    assert "<script>alert('x')</script> {{ 7*7 }} {% raw %} **bold** [link]" in page.text
    assert 'href="javascript' not in html


def test_pages_carry_a_strict_content_security_policy(site):
    response = client(site).get("/")
    policy = response.headers["content-security-policy"]
    nonce = re.search(r"script-src 'nonce-([^']+)'", policy).group(1)
    assert f'<script nonce="{nonce}">' in response.text and "default-src 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_folder_without_results_is_refused_in_one_line(bank, tmp_path):
    with pytest.raises(TutorError, match="not a marks folder") as caught:
        Site(tmp_path, bank, "t", PORT)
    assert str(tmp_path) in caught.value.message


def test_results_of_a_question_the_course_lacks_give_a_one_line_error_page(site, marks):
    rows = raw_rows(marks)
    rows[0]["question_id"] = "w99-nope-1"
    (marks / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    page = client(site, login=False).get(f"/?token={site.token}")
    assert page.status_code == 500 and "unknown question id &#39;w99-nope-1&#39;" in page.text

