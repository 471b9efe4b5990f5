"""A judge on any OpenAI-compatible server: OpenAI, vLLM, llama.cpp server, Ollama.

Each claim is one chat request for a single token. Where the server returns
logprobs we read P(yes) from the top candidates ("logprobs" mode); where it does
not, we ask for a JSON verdict constrained by a schema ("structured" mode, 0 or 1).
Retries and caching live in `tutor.core.judges.registry`; this module only maps errors.
"""

import ipaddress
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tutor.core.errors import ExitCode, TransientJudgeError, TutorError, first_problem
from tutor.core.judges.base import JudgeRequest, messages_for
from tutor.core.signals import OnSignals, Provenance, Signals

if TYPE_CHECKING:
    import httpx2
    from openai.types.chat.chat_completion import Choice

    from tutor.core.settings import Settings

log = logging.getLogger("tutor.judge")
T = TypeVar("T")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}
_WARNED_HOSTS: set[str] = set()
_WARNED_LOCK = threading.Lock()
_LOGPROB_SLACK = 1e-3  # servers round: a log-probability of +0.0001 is 0

VERDICT_SCHEMA = {
    "name": "verdict",
    "strict": True,
    "schema": {"type": "object", "properties": {"verdict": {"type": "string", "enum": ["yes", "no"]}},
               "required": ["verdict"], "additionalProperties": False},
}


class OpenAIJudge:
    def __init__(self, model: str | None = None, base_url: str | None = None,
                 api_key: str | None = None, timeout: float = 60.0, parallel_claims: int = 4):
        from openai import OpenAI

        if not model:
            raise TutorError("the openai backend needs --model NAME (the server's model name)")
        base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        api_key = api_key or os.environ.get("OPENAI_API_KEY")
        if not api_key and not base_url:
            raise TutorError("set OPENAI_API_KEY (or --base-url for a local server)", ExitCode.BACKEND)
        if api_key and base_url:
            _warn_if_key_goes_in_clear(base_url)
        self.client = OpenAI(base_url=base_url, api_key=api_key or "no-key", timeout=timeout,
                             max_retries=0, http_client=_deadline_client(timeout))
        self.name = model
        self.base_url = base_url or "https://api.openai.com/v1"
        self.parallel_claims = parallel_claims  # one answer's claims in flight at once
        self.mode = "logprobs"
        self.provenance: Provenance | None = None  # top logprobs only: decided on P(yes)
        self._model_checked = False

    @classmethod
    def from_settings(cls, settings: "Settings") -> "OpenAIJudge":
        key = settings.api_key.get_secret_value() if settings.api_key else None
        return cls(model=settings.model, base_url=settings.base_url, api_key=key,
                   timeout=settings.timeout, parallel_claims=settings.parallel_claims)

    def warm(self) -> None:
        """Fail early and clearly: the server is reachable and serves this model."""
        if self._model_checked:
            return
        names = self._model_names()
        if self.name not in names:
            shown = ", ".join(names[:5]) or "none"
            raise TutorError(f"model '{self.name}' not found at {self.base_url} (it serves: {shown})",
                             ExitCode.BACKEND)
        self._model_checked = True

    def _model_names(self) -> list[str]:
        """The ids in the server's /models reply, read as sent (a body that is no model list,
        `{"data": null}`, `[{"id": 5}]`, an HTML page) is one line naming the server."""
        raw = self._request(self.client.models.with_raw_response.list)
        try:
            return [m.id for m in _ModelList.model_validate_json(raw.http_response.content).data]
        except ValidationError:
            shown = " ".join(raw.http_response.text.split())[:80]
            raise TutorError(f"{self.base_url} did not answer with a model list: {shown!r}",
                             ExitCode.BACKEND) from None

    def prefill(self, request: JudgeRequest) -> None:
        """Nothing to do ahead: a server caches prompts itself, if it does."""

    def judge(self, request: JudgeRequest, on_signals: OnSignals | None = None) -> list[Signals]:
        self.warm()

        def probe(index: int) -> Signals:
            signals = Signals(self._probe(request, request.claims[index]))
            if on_signals:
                on_signals(index, signals)
            return signals

        pool = ThreadPoolExecutor(max_workers=self.parallel_claims)
        try:
            return list(pool.map(probe, range(len(request.claims))))
        except BaseException:  # Ctrl-C included: the claims not sent yet are not sent
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        finally:
            pool.shutdown(wait=False)

    def cancel(self) -> None:
        """Abandon the requests in flight (Ctrl-C): closing the client ends their reads."""
        self.client.close()

    def _probe(self, request: JudgeRequest, claim: str) -> float:
        messages = messages_for(request, claim)
        if self.mode == "logprobs":
            response = self._call(messages=messages, max_tokens=1, logprobs=True, top_logprobs=10)
            probability = _p_yes_from_logprobs(self._choice(response), self.base_url)
            if probability is not None:
                return probability
            self.mode = "structured"  # this server gives no logprobs: say so in every Grade
        response = self._call(messages=messages, max_tokens=20,
                              response_format={"type": "json_schema", "json_schema": VERDICT_SCHEMA})
        return _p_yes_from_json(self._choice(response).message.content, self.base_url)

    def _choice(self, response: object) -> "Choice":
        """The first choice of a chat completion, or a one-line error for anything else (an HTML
        page from a proxy, a JSON error body, an empty `choices`)."""
        choices = getattr(response, "choices", None)
        if not isinstance(choices, list) or not choices or getattr(choices[0], "message", None) is None:
            shown = " ".join(str(response).split())[:80]
            raise TutorError(f"{self.base_url} did not answer with a chat completion: {shown!r}",
                             ExitCode.BACKEND)
        return cast("Choice", choices[0])

    def _call(self, **kwargs: Any) -> object:
        return self._request(self.client.chat.completions.create, model=self.name, temperature=0,
                             seed=0, **kwargs)

    def _request(self, method: Callable[..., T], **kwargs: Any) -> T:
        """One API call, its failures mapped to one-line errors (transient ones are retried)."""
        import openai

        try:
            return method(**kwargs)
        except openai.AuthenticationError:
            raise TutorError(f"{self.base_url} refused the API key (check OPENAI_API_KEY)",
                             ExitCode.BACKEND) from None
        except openai.NotFoundError:
            raise TutorError(f"model '{self.name}' not found at {self.base_url}", ExitCode.BACKEND) from None
        except openai.APIConnectionError as exc:
            raise TransientJudgeError(f"cannot reach {self.base_url} ({_short(exc)})") from None
        except (openai.RateLimitError, openai.InternalServerError) as exc:
            raise TransientJudgeError(f"{self.base_url}: {_short(exc)}") from None
        except openai.APIStatusError as exc:
            raise TutorError(f"{self.base_url} answered {exc.status_code}: {_short(exc)}",
                             ExitCode.BACKEND) from None
        except (openai.APIResponseValidationError, ValueError) as exc:  # 200 with a body that is no JSON
            raise TutorError(f"{self.base_url} answered with an unreadable body ({_short(exc)})",
                             ExitCode.BACKEND) from None


def _deadline_client(timeout: float) -> "httpx2.Client":
    """An HTTP client whose `timeout` bounds each request as a whole, not only each read: a
    server that drips its reply a byte at a time is cut off at the deadline, and that is a
    timeout like any other (retried, then counted by the circuit breaker)."""
    import httpx2
    from openai import DefaultHttpxClient

    class Deadline(httpx2.SyncByteStream):
        def __init__(self, inner: httpx2.SyncByteStream, deadline: float, request: httpx2.Request):
            self.inner, self.deadline, self.request = inner, deadline, request

        def __iter__(self) -> Iterator[bytes]:
            for chunk in self.inner:
                if time.monotonic() > self.deadline:
                    raise httpx2.ReadTimeout(f"no full reply within {timeout:g} s", request=self.request)
                yield chunk

        def close(self) -> None:
            self.inner.close()

    def start(request: httpx2.Request) -> None:
        request.extensions["tutor_deadline"] = time.monotonic() + timeout

    def bound(response: httpx2.Response) -> None:  # before its body is read
        deadline = response.request.extensions.get("tutor_deadline", time.monotonic() + timeout)
        assert isinstance(response.stream, httpx2.SyncByteStream)
        response.stream = Deadline(response.stream, deadline, response.request)

    # event hooks, not a transport of our own: httpx then keeps its proxies from the environment
    return DefaultHttpxClient(timeout=timeout, event_hooks={"request": [start], "response": [bound]})


def _warn_if_key_goes_in_clear(base_url: str) -> None:
    """The policy: the key goes to whatever server `--base-url` names (a self-hosted server may
    need one), but a bearer token sent over plain HTTP to another machine can be read on the
    way, so that is said once per host, on stderr in the CLI."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if parts.scheme == "http" and not _loopback(host):
        with _WARNED_LOCK:
            first = host not in _WARNED_HOSTS
            _WARNED_HOSTS.add(host)
        if first:
            log.warning("the API key will be sent over plain HTTP to %s; use https:// or unset "
                        "OPENAI_API_KEY for a server that needs none", host)


def _loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8, ::1 (and 0.0.0.0, which reaches this machine): never the network."""
    if host.lower() in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]


class _Candidate(BaseModel):
    """One of the first token's top candidates, as a server must send it: a log-probability is
    finite and at most 0 (NaN, Infinity or 1000 would make P(yes) meaningless or overflow)."""

    model_config = ConfigDict(allow_inf_nan=False, strict=True)

    token: str
    logprob: float = Field(le=_LOGPROB_SLACK)


class _Position(BaseModel):
    top_logprobs: list[_Candidate] | None = None


class _Logprobs(BaseModel):
    content: list[_Position] | None = None


class _ModelId(BaseModel):
    model_config = ConfigDict(strict=True)

    id: str


class _ModelList(BaseModel):
    """GET /models as the API defines it: `{"data": [{"id": "m", ...}, ...]}`."""

    model_config = ConfigDict(strict=True)

    data: list[_ModelId]


class _Verdict(BaseModel):
    model_config = ConfigDict(strict=True)

    verdict: str


def _p_yes_from_logprobs(choice: "Choice", server: str) -> float | None:
    """P(yes) among the first token's top candidates; None when the server gives no logprobs.
    Top candidates with neither yes nor no are no evidence either way: an error, not P = 0."""
    if not choice.logprobs or not getattr(choice.logprobs, "content", None):
        return None
    try:
        content = _Logprobs.model_validate(choice.logprobs, from_attributes=True).content or []
    except ValidationError as exc:
        raise TutorError(f"{server} sent malformed logprobs ({first_problem(exc)}); answer not graded",
                         ExitCode.BACKEND) from None
    top = (content[0].top_logprobs or []) if content else []
    yes = [c.logprob for c in top if c.token.strip().lower() == "yes"]
    no = [c.logprob for c in top if c.token.strip().lower() == "no"]
    if not yes and not no:
        shown = ", ".join(repr(c.token) for c in top[:5]) or "none"
        raise TutorError(f"{server}'s judge answered neither yes nor no (its top tokens: {shown}); "
                         "answer not graded", ExitCode.BACKEND)
    p_yes, p_no = sum(map(math.exp, yes)), sum(map(math.exp, no))
    if p_yes + p_no == 0:
        shown = ", ".join(f"{p:g}" for p in [*yes, *no][:4])
        raise TutorError(f"{server} sent log-probabilities for yes and no so small ({shown}) that both "
                         "underflow to 0; answer not graded", ExitCode.BACKEND)
    return p_yes / (p_yes + p_no)


def _one_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are unique in any case: `{"verdict": "no", "verdict": "yes"}`
    contradicts itself, and Python's json would keep the last one silently."""
    keys = [key.strip().casefold() for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a key given twice")
    return dict(pairs)


def _p_yes_from_json(text: object, server: str) -> float:
    """1 for a verdict of "yes", 0 for "no", in any case and spacing ("YES", " No "); anything
    else ("maybe", null, 1, no JSON, a verdict given twice) is an error, never a silent "no"."""
    try:
        parsed = json.loads(text if isinstance(text, str | bytes) else "", object_pairs_hook=_one_each)
        verdict = _Verdict.model_validate(parsed).verdict
    except (ValueError, ValidationError):
        raise TutorError(f"{server}'s verdict was not the JSON asked for: {str(text)[:80]!r}",
                         ExitCode.BACKEND) from None
    word = verdict.strip().lower()
    if word not in ("yes", "no"):
        raise TutorError(f"{server}'s verdict was neither yes nor no: {verdict[:40]!r}", ExitCode.BACKEND)
    return 1.0 if word == "yes" else 0.0
