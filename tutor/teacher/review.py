"""The review page: a teacher checks a batch's grades in a browser and overrides them.

`tutor review MARKS_DIR` serves it on 127.0.0.1 only, on a free port, behind a random token
(as Jupyter does): the printed URL carries it once, then a SameSite=Strict cookie does. Every
request must name the loopback address and port as its Host (no DNS rebinding), and every form
carries a second secret. Each change is appended to MARKS_DIR/overrides.jsonl (nothing is ever
rewritten, so two tabs lose nothing), then gradebook.csv, feedback/ and report.html are made
again (`write_marks`, one writer at a time), then the browser is redirected (POST/redirect/GET).
Pages are Jinja with autoescape; learner text never enters the one inline script, and a
Content-Security-Policy with a per-response nonce runs nothing else. The page reads and writes
inside MARKS_DIR only: no request names a path.
"""

import hashlib
import math
import secrets
import socket
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import uvicorn
from jinja2 import Environment, PackageLoader
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from tutor.core.bank import Bank
from tutor.core.errors import TutorError
from tutor.core.result import Outcome, Verdict
from tutor.teacher.batch.outputs import opened, write_marks
from tutor.teacher.batch.run import RESULTS
from tutor.teacher.learner_text import register
from tutor.teacher.overrides import (
    ALLOWED,
    OVERRIDES,
    Change,
    Override,
    Review,
    Reviewed,
    answer_sha256,
    append,
    load,
    made_now,
    results,
    reviewed_answer,
)

LISTED = 500  # answers the list shows at once; filters narrow it
BANDS = ("fail", "partial", "full", "ungraded")
# how a person's verdict reads, and its key on the answer page (y: stated, n: not stated)
LABELS: dict[tuple[str, Outcome], tuple[str, str]] = {
    ("key_point", Outcome.HIT): ("stated", "y"), ("key_point", Outcome.MISS): ("not stated", "n"),
    ("misconception", Outcome.WRONG): ("stated", "y"), ("misconception", Outcome.CLEAR): ("not stated", "n"),
    ("numeric", Outcome.HIT): ("right", "y"), ("numeric", Outcome.MISS): ("missing", "n"),
    ("numeric", Outcome.WRONG): ("wrong", ""),
}


@dataclass(frozen=True)
class Entry:
    """One answer in the list: what the list shows, filters and sorts on (not the whole grade)."""

    order: int
    student: str
    question_id: str
    score: float | None  # now, after the person's changes
    band: str
    flagged: bool  # the grader asked for review
    band_probability: float | None  # the grader's P(band right)
    review: bool  # still needs review: flagged, and no person has looked yet
    reviewed: bool
    changed: bool
    stale: int

    @classmethod
    def of(cls, order: int, item: Reviewed) -> "Entry":
        grade, machine = item.grade, item.machine
        return cls(order, *item.key, grade.score, grade.band.value if grade.band else "ungraded",
                   machine.review, machine.band_probability, grade.review, item.reviewed, item.changed,
                   len(item.stale))

    @property
    def key(self) -> tuple[str, str]:
        return self.student, self.question_id

    def doubt(self) -> tuple[bool, float, int]:
        """The grader's doubt: flagged first, then the least sure band (None: sure), then input
        order. A person's review does not move an answer, so next/previous stay put while
        the teacher works down the list."""
        sure = 1.0 if self.band_probability is None else self.band_probability
        return not self.flagged, sure, self.order


@dataclass
class Listing:
    entries: list[Entry]  # most doubtful first
    orphans: list[Override]  # overrides for answers no longer in results
    damaged: list[str]  # overrides.jsonl lines skipped


@dataclass(frozen=True)
class Filters:
    """The list's filters, from the query string (also carried by every form and link)."""

    question: str = ""
    band: str = ""
    student: str = ""  # part of the name, any case
    review: bool = False  # only answers that need review

    @classmethod
    def of(cls, params: Mapping[str, Any]) -> "Filters":
        band = str(params.get("band", ""))
        return cls(str(params.get("question", "")).strip(), band if band in BANDS else "",
                   str(params.get("student", "")).strip(), params.get("review") == "1")

    def keeps(self, entry: Entry) -> bool:
        return ((not self.question or entry.question_id == self.question)
                and (not self.band or entry.band == self.band)
                and (not self.student or self.student.casefold() in entry.student.casefold())
                and (not self.review or entry.review))

    def params(self) -> dict[str, str]:
        found = {"question": self.question, "band": self.band, "student": self.student,
                 "review": "1" if self.review else ""}
        return {name: value for name, value in found.items() if value}

    @property
    def url(self) -> str:
        return urlencode(self.params())


def answer_url(student: str, question_id: str, filters: Filters, anchor: str = "") -> str:
    return f"/answer?{urlencode({'s': student, 'q': question_id, **filters.params()})}{anchor}"


@dataclass
class Site:
    """What every request needs: the folder, the course, who reviews, and the secrets."""

    marks_dir: Path
    bank: Bank
    reviewer: str
    port: int
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    _cache: tuple[tuple[int, ...], Listing] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        results(self.marks_dir)  # a folder without results.jsonl: one-line TutorError now
        self.form_token = hashlib.sha256(f"form:{self.token}".encode()).hexdigest()
        self.hosts = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}
        self.cookie = f"tutor_review_{self.port}"  # cookies ignore ports: one per server
        self.env = register(Environment(loader=PackageLoader("tutor.teacher", "review_templates"),
                                        autoescape=True))

    def listing(self) -> Listing:
        """Every answer, most doubtful first; made again only when a file changed."""
        with self._lock:
            signature = self._signature()
            if self._cache is None or self._cache[0] != signature:
                self._cache = signature, self._list()
            return self._cache[1]

    def _signature(self) -> tuple[int, ...]:
        stats = [(self.marks_dir / name).stat() if (self.marks_dir / name).exists() else None
                 for name in (RESULTS, OVERRIDES)]
        return tuple(n for s in stats for n in ((s.st_ino, s.st_mtime_ns, s.st_size) if s else (0, 0, 0)))

    def _list(self) -> Listing:
        overrides, damaged = load(self.marks_dir)
        review = Review(self.bank, overrides)
        entries = [Entry.of(n, item) for n, item in enumerate(review.answers(results(self.marks_dir)))]
        return Listing(sorted(entries, key=Entry.doubt), review.orphans, damaged)

    def page(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(
            nonce=request.state.nonce, form_token=self.form_token, reviewer=self.reviewer,
            folder=str(self.marks_dir), **context)
        return HTMLResponse(html, status)

    def error(self, request: Request, status: int, message: str, back: str = "/") -> HTMLResponse:
        return self.page(request, "error.html.j2", status, message=message, back=back,
                         filters=Filters.of(request.query_params))


class Guard(BaseHTTPMiddleware):
    """Host check, token, and the headers every response carries."""

    def __init__(self, app: ASGIApp, site: Site):
        super().__init__(app)
        self.site = site

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        site = self.site
        if request.headers.get("host", "") not in site.hosts:  # a rebound DNS name, another site
            return _secured(PlainTextResponse("tutor review: unexpected Host header", 421), "")
        given = request.query_params.get("token")
        if given is not None:
            return _secured(_take_token(request, site, given), "")
        if not secrets.compare_digest(request.cookies.get(site.cookie, ""), site.token):
            return _secured(PlainTextResponse(
                "tutor review: open the URL that `tutor review` printed (it carries the token)", 403), "")
        request.state.nonce = secrets.token_urlsafe(16)
        return _secured(await call_next(request), request.state.nonce)


def _take_token(request: Request, site: Site, given: str) -> Response:
    """The URL's token, once: kept in a cookie, and taken out of the address bar."""
    if not secrets.compare_digest(given, site.token):
        return PlainTextResponse("tutor review: wrong token", 403)
    rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
    path = "/" + request.url.path.lstrip("/")  # never "//host": a redirect stays on this server
    response = RedirectResponse(path + (f"?{urlencode(rest)}" if rest else ""), 303)
    response.set_cookie(site.cookie, site.token, httponly=True, samesite="strict")
    return response


def _secured(response: Response, nonce: str) -> Response:
    sources = f"'nonce-{nonce}'" if nonce else "'none'"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src {sources}; style-src {sources}; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def list_page(site: Site, request: Request) -> Response:
    filters = Filters.of(request.query_params)
    listing = site.listing()
    shown = [e for e in listing.entries if filters.keeps(e)]
    present = {e.question_id for e in listing.entries}
    return site.page(request, "list.html.j2", filters=filters, entries=shown[:LISTED], shown=len(shown),
                     listing=listing, questions=[r.id for r in site.bank.rubrics if r.id in present],
                     bands=BANDS, answer_url=answer_url,
                     counts={"review": sum(e.review for e in listing.entries),
                             "changed": sum(e.changed for e in listing.entries),
                             "stale": sum(e.stale for e in listing.entries) + len(listing.orphans)})


@dataclass(frozen=True)
class PointView:
    """One row of the answer page's points table."""

    index: int
    machine: Verdict
    now: Verdict
    choices: list[tuple[str, str, str]]  # (outcome, label, key)

    def label(self, verdict: Verdict) -> str:
        return LABELS[(verdict.kind, verdict.outcome)][0]


def point_views(item: Reviewed) -> list[PointView]:
    now = {v.point_id: v for v in item.grade.verdicts}
    return [PointView(n, v, now.get(v.point_id, v),
                      [(o.value, *LABELS[(v.kind, o)]) for o in ALLOWED[v.kind]])
            for n, v in enumerate(item.machine.verdicts, 1)]


def answer_page(site: Site, request: Request) -> Response:
    student, question = request.query_params.get("s", ""), request.query_params.get("q", "")
    filters = Filters.of(request.query_params)
    item = reviewed_answer(site.bank, site.marks_dir, student, question)
    if item is None:
        return site.error(request, 404, "No such answer in results.jsonl.", f"/?{filters.url}")
    entries = site.listing().entries
    kept = [e.key for e in entries if filters.keeps(e)]
    # the answer itself stays in the order, so next/previous work when it has left the filter
    # (e.g. accepted, under "needs review only")
    order = [e.key for e in entries if filters.keeps(e) or e.key == item.key]
    at = order.index(item.key)
    near = {name: answer_url(*order[i], filters) if 0 <= i < len(order) else None
            for name, i in (("prev", at - 1), ("next", at + 1))}
    rubric = site.bank.get(question)
    position = (kept.index(item.key) + 1, len(kept)) if item.key in kept else None
    return site.page(request, "answer.html.j2", item=item, rubric=rubric, filters=filters,
                     position=position, near=near, shown=len(kept),
                     points=point_views(item), answer_hash=answer_sha256(item.row.answer),
                     current_rubric=item.machine.rubric_version == rubric.version)


Handler = Callable[[Site, Request, FormData, Reviewed], Override | str]


async def posted(handle: Handler, site: Site, request: Request) -> Response:
    """A change: check the form, append the override, make the outputs again, redirect."""
    form = await request.form()
    filters = Filters.of(form)
    student, question = str(form.get("s", "")), str(form.get("q", ""))
    back = answer_url(student, question, filters)
    if not secrets.compare_digest(str(form.get("csrf", "")), site.form_token):
        return site.error(request, 403, "This form is not from this review page; reload it.", back)
    item = await run_in_threadpool(reviewed_answer, site.bank, site.marks_dir, student, question)
    if item is None:
        return site.error(request, 404, "No such answer in results.jsonl.", f"/?{filters.url}")
    if form.get("answer_sha256") != answer_sha256(item.row.answer) or \
            form.get("rubric_version") != item.machine.rubric_version:
        return site.error(request, 409, "This answer was graded again since the page was loaded: "
                                        "reload it and review again. Nothing was saved.", back)
    made = handle(site, request, form, item)
    if isinstance(made, str):
        return site.error(request, 400, made, back)
    await run_in_threadpool(_save, site, made)
    anchor = f"#p{form.get('index')}" if str(form.get("index", "")).isdigit() else ""
    return RedirectResponse(answer_url(student, question, filters, anchor), 303)


def _save(site: Site, override: Override) -> None:
    append(site.marks_dir, override)
    write_marks(site.marks_dir, site.bank)


def _override(site: Site, item: Reviewed, change: Change, **fields: Any) -> Override:
    return made_now(item.row, site.reviewer, change, **fields)


def _reviewable(site: Site, item: Reviewed) -> str | None:
    if item.machine.rubric_version != site.bank.get(item.key[1]).version:
        return "The rubric changed since this answer was graded: run `tutor grade` again, then review."
    return None


def set_point(site: Site, request: Request, form: FormData, item: Reviewed) -> Override | str:
    point_id, outcome = str(form.get("point_id", "")), str(form.get("outcome", ""))
    verdict = next((v for v in item.grade.verdicts if v.point_id == point_id), None)
    if verdict is None or outcome not in ALLOWED[verdict.kind]:
        return "No such point, or that verdict does not fit it."
    reason = str(form.get("reason", "")).strip()
    return _reviewable(site, item) or _override(site, item, "point", point_id=point_id,
                                                old=verdict.outcome.value, new=outcome, reason=reason)


def set_mark(site: Site, request: Request, form: FormData, item: Reviewed) -> Override | str:
    reason = str(form.get("reason", "")).strip()
    score = _score(str(form.get("score", "")))
    if score is None:
        return "A mark is a number from 0 to 1 (e.g. 0.6)."
    if not reason:
        return "Say why the mark changes: a mark needs a reason."
    return _reviewable(site, item) or _override(site, item, "mark", old=item.grade.score, new=score,
                                                reason=reason)


def _score(text: str) -> float | None:
    try:
        score = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    return score + 0.0 if math.isfinite(score) and 0 <= score <= 1 else None  # + 0.0: "-0" is 0.0


def accept(site: Site, request: Request, form: FormData, item: Reviewed) -> Override | str:
    return _reviewable(site, item) or _override(site, item, "accept",
                                                reason=str(form.get("reason", "")).strip())


def create_app(site: Site) -> Starlette:
    def post(handle: Handler) -> Callable[[Request], Awaitable[Response]]:
        return partial(posted, handle, site)

    def failed(request: Request, exc: Exception) -> Response:
        """A user error (e.g. results of a question this course lacks): its one line, not a 500."""
        return site.error(request, 500, str(exc))

    return Starlette(routes=[
        Route("/", partial(list_page, site)),
        Route("/answer", partial(answer_page, site)),
        Route("/point", post(set_point), methods=["POST"]),
        Route("/mark", post(set_mark), methods=["POST"]),
        Route("/accept", post(accept), methods=["POST"]),
    ], middleware=[Middleware(Guard, site=site)], exception_handlers={TutorError: failed})


class ReviewServer:
    """The review page on 127.0.0.1 at `port` (0: a free one the system picks)."""

    def __init__(self, marks_dir: Path, bank: Bank, reviewer: str, port: int = 0):
        check_course(marks_dir, bank)  # graded in this course (one line naming --course), before
        opened(marks_dir, bank)  # outputs left out of date made again; both before taking a port
        self.socket = _listen(port)
        self.port: int = self.socket.getsockname()[1]
        self.site = Site(marks_dir, bank, reviewer, self.port)
        self.server = uvicorn.Server(uvicorn.Config(
            create_app(self.site), log_level="warning", access_log=False, lifespan="off",
            proxy_headers=False, server_header=False))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?token={self.site.token}"

    @property
    def started(self) -> bool:
        return self.server.started

    def run(self) -> None:
        """Serve until Ctrl-C (in the main thread) or `stop()`."""
        try:
            self.server.run(sockets=[self.socket])
        finally:
            self.socket.close()

    def stop(self) -> None:
        self.server.should_exit = True


def check_course(marks_dir: Path, bank: Bank) -> None:
    """The folder was graded in this course: else every page would be an error, so the
    server does not start (one line naming --course)."""
    for row in results(marks_dir):
        if bank.find(row.question_id) is None:
            raise TutorError(f"{marks_dir}: its results grade question '{row.question_id}', which this "
                             "course lacks: give the --course the folder was graded with")


def _listen(port: int) -> socket.socket:
    """A socket bound to the loopback address only, listening (so a browser opened before the
    server starts waits instead of being refused)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise TutorError(f"cannot serve on 127.0.0.1:{port} ({exc.strerror}); "
                         "choose another --port") from None
    sock.listen(64)
    return sock
