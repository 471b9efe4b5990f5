"""`tutor grade --cluster`: a class graded by judges on a Ray cluster; the driver stays the one writer.

Why Ray: it is on the registry, starts a local instance with one call (`--cluster local:N`) or
joins one a department already runs (`ray start --head`, then `--cluster HOST:6379`), restarts a
lost worker, and gives each worker process state of its own, which is what a judge is: a 1 GB
model loaded once. We add no scheduler of our own, only the dispatch below.

What runs where: the driver (the `tutor grade` process) reads the inputs, keys each answer and
writes every result line through `BatchRun.grade_all`, as a one-machine run does; the workers
only turn answers into grades, through BatchRun's own grading step (`_grade_one`). So
results.jsonl, resume after a kill, `--retry-errors`, overrides, the review page and
`eval --from` work unchanged, and the folder equals a one-machine run's (the same keys, the same
grades, the same final order). Each worker is one Ray actor holding one judge (`JudgeWorker`),
its model loaded once, fetched first where the node lacks it exactly as `tutor model install`
does (hash-checked registry packages, never a hub). Answers go out grouped by question (at most
`GROUP` of them, `DEPTH` groups per worker in flight), so a worker keeps its question's prefix
warm and never waits for the driver.

Fault model:
- A worker process killed (SIGKILL, out of memory, a node lost): the groups it held come back
  as errors and their answers are sent again to the workers left (Ray restarts the actor, model
  and all, up to `RESTARTS` times). A grade is written only when its group comes back, and a
  group comes back once, so no answer is written twice.
- A judge that fails on an answer: that answer is `ungraded` with the reason, as in one process.
- A worker whose judge cannot load: it is left out, with a line; none loads: the run stops with
  the first one's line. A damaged model found while grading (exit code 3) stops the run, as in
  one process.
- The driver killed: Ray ends the workers it owned; results.jsonl keeps every line written, and
  the same command resumes.
- An address with no cluster behind it: one line, before anything is graded.
"""

import fcntl
import os
import socket
import sys
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby, islice
from pathlib import Path
from typing import Any

from tutor.core import model_store, paths
from tutor.core.bank import Bank
from tutor.core.console import Console, plural
from tutor.core.decide import Head
from tutor.core.errors import ExitCode, TutorError
from tutor.core.judge_prompts import prompts_hash
from tutor.core.judges.base import JudgeRequest
from tutor.core.judges.llama_runtime import available_cores
from tutor.core.judges.registry import ReliableJudge, judge_from_settings
from tutor.core.result import Grade
from tutor.core.settings import Settings
from tutor.core.signals import OnSignals, Provenance, Signals
from tutor.teacher.batch.inputs import Submission
from tutor.teacher.batch.run import BatchRun, Graded, by_question

GROUP = 8  # answers to one question sent to a worker at once
DEPTH = 2  # groups in flight per worker: the next one is there when a worker finishes
RESTARTS = 2  # times Ray starts a lost worker again (model and all) before it is left out
CONNECT_TIMEOUT_S = 5.0  # an address must answer within this before Ray is asked to join it


@dataclass(frozen=True)
class ClusterSpec:
    """Where the workers run: a local Ray instance (`address` None) or a running cluster."""

    address: str | None
    workers: int | None = None  # None: as many as the CPUs allow, `threads` each
    threads: int | None = None  # llama.cpp threads per worker


def parse_cluster(text: str, threads: int | None = None) -> ClusterSpec:
    """`local`, `local:N` (N workers on this machine) or a Ray cluster's HOST:PORT (or `auto`)."""
    name, _, count = text.strip().partition(":")
    if name == "local":
        if count and not (count.isdigit() and 0 < int(count) <= 256):
            raise TutorError(f"--cluster {text}: the number of local workers must be 1 to 256 (local:2)")
        return ClusterSpec(None, int(count) if count else None, threads)
    if text.startswith("ray://"):
        raise TutorError(f"--cluster {text}: Ray Client (ray://) is not supported; run `tutor grade` on "
                         "a node of the cluster with --cluster HOST:6379 (the `ray start --head` address)")
    if text != "auto" and not (count.isdigit() and name):
        raise TutorError(f"--cluster {text}: write local, local:N, auto, or a Ray cluster's HOST:PORT")
    return ClusterSpec(text, None, threads)


@dataclass(frozen=True)
class Stop:
    """A worker's reason to stop the run (a damaged model), brought back whole: an exception
    would lose its exit code on the way."""

    message: str
    exit_code: int


class JudgeWorker:
    """One Ray actor: one judge, its model loaded once, grading the groups of answers it is sent.
    Made remote by `Cluster` (`ray.remote(...)(JudgeWorker)`), so importing this module needs no Ray."""

    def __init__(self, settings: Settings, threads: int):
        self.problem: Stop | None = None
        self.judge: ReliableJudge | None = None
        try:
            self.judge = worker_judge(settings, threads)
            self.judge.warm()
        except TutorError as exc:  # told to the driver by `describe`, which leaves this worker out
            self.problem = Stop(exc.message, exc.exit_code)

    def describe(self) -> tuple[str, str, Provenance | None, str, int] | Stop:
        """(model name, mode, provenance, prompts hash, pid): what the driver keys answers by and
        checks every worker agrees on; or why this worker has no judge."""
        if self.judge is None:
            return self.problem or Stop("no judge", ExitCode.MODEL)
        return self.judge.name, self.judge.mode, self.judge.provenance, prompts_hash(), os.getpid()

    def grade(self, bank: Bank, head: Head, subs: list[Submission]) -> list[Grade] | Stop:
        """The grades of `subs`, in order, made by the one-machine run's own step."""
        if self.judge is None:  # restarted after a loss, and its judge no longer loads
            return self.problem or Stop("no judge", ExitCode.MODEL)
        run = BatchRun(bank, self.judge, Path(), head=head)
        try:
            return [run._grade_one(sub) for sub in subs]
        except TutorError as exc:  # a damaged model: every answer would fail
            return Stop(exc.message, exc.exit_code)


def worker_judge(settings: Settings, threads: int) -> ReliableJudge:
    """The judge the settings name, the local one with `threads` threads and its model fetched
    first if this node lacks it."""
    if settings.backend != "local":
        return judge_from_settings(settings)
    from tutor.core.judges.local import LocalJudge

    return ReliableJudge(LocalJudge.load(model_here(settings.model), n_threads=threads))


def model_here(model: str | None) -> Path:
    """The model's file on this node: a named model is installed first where it is missing, as
    `tutor model install` does, under a lock so two workers of one node fetch it once."""
    spec = model_store.MODELS.get(model or "default")
    if spec and not model_store.is_installed(spec):
        with (paths.model_dir() / ".install.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not model_store.is_installed(spec):
                print(f"tutor worker {os.getpid()}: fetching the {model or 'default'} model", file=sys.stderr)
                model_store.install(spec)
    return model_store.resolve(model)


class Described:
    """The driver's judge: the workers' name, mode and provenance, for the keys and the head.
    It grades nothing itself; the workers do."""

    def __init__(self, name: str, mode: str, provenance: Provenance | None):
        self.name, self.mode, self.provenance = name, mode, provenance

    def warm(self) -> None:
        """The workers loaded their models."""

    def prefill(self, request: JudgeRequest) -> None:
        """Nothing to do ahead: the workers judge."""

    def judge(self, request: JudgeRequest, on_signals: OnSignals | None = None) -> list[Signals]:
        raise TutorError("a cluster's answers are judged by its workers, not the driver")


def forwarded_env(local: bool) -> dict[str, str]:
    """The variables a worker gets from the driver: on this machine every TUTOR_* one (the model
    folder, the prompts, the test hooks); on a cluster only the fake judge's test hooks (the
    other paths are the driver machine's)."""
    prefix = "TUTOR_" if local else "TUTOR_FAKE_"
    return {key: value for key, value in os.environ.items() if key.startswith(prefix)}


def reachable(address: str) -> None:
    """A HOST:PORT that answers, or one line: Ray itself waits minutes on an address with
    nothing behind it."""
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise TutorError(f"--cluster {address}: cannot reach a Ray cluster there ({exc.strerror or exc}); "
                         "start one with `ray start --head` or check the address") from None


class Cluster:
    """The workers of one `tutor grade` run: started on first use (`judge`), ended by `close`."""

    def __init__(self, spec: ClusterSpec, settings: Settings, console: Console | None = None):
        self.spec, self.settings, self.console = spec, settings, console or Console()
        self.workers: list[Any] = []  # Ray actor handles
        self.started_ray = False
        self.ray: Any = None

    def judge(self) -> ReliableJudge:
        """Start the workers (each loads its judge) and describe them to the driver."""
        self.ray = ray_module()
        count, threads = self._connect()
        self.workers = self._start(count, threads)
        return ReliableJudge(self._describe())

    def _connect(self) -> tuple[int, int]:
        """Join or start Ray; (workers, threads each)."""
        ray, spec = self.ray, self.spec
        local = spec.address is None
        threads = spec.threads or (max(1, available_cores() // (spec.workers or available_cores()))
                                   if local else 4)
        if spec.address not in (None, "auto"):
            reachable(spec.address)
        if not ray.is_initialized():  # an instance this process already runs (a test) is used as is
            options = {"num_cpus": (spec.workers or available_cores()) * threads} if local else {}
            try:
                ray.init(address=spec.address, include_dashboard=False, log_to_driver=False,
                         configure_logging=False, **options)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise TutorError(f"--cluster {spec.address or 'local'}: cannot start or join Ray "
                                 f"({' '.join(str(exc).split())[:200]})") from None
            self.started_ray = True
        cpus = int(ray.cluster_resources().get("CPU", 1))
        return spec.workers or max(1, cpus // threads), threads

    def _start(self, count: int, threads: int) -> list[Any]:
        remote = self.ray.remote(num_cpus=threads, max_restarts=RESTARTS, max_task_retries=0)(JudgeWorker)
        env = {"env_vars": forwarded_env(self.spec.address is None)}
        return [remote.options(runtime_env=env).remote(self.settings, threads) for _ in range(count)]

    def _describe(self) -> Described:
        """Every worker's judge, checked to agree; those that could not load one are left out."""
        told = [self._told(ref) for ref in [worker.describe.remote() for worker in self.workers]]
        ready = [(worker, about) for worker, about in zip(self.workers, told, strict=True)
                 if not isinstance(about, Stop)]
        for number, about in enumerate(told, 1):
            if isinstance(about, Stop):
                self.console.warn(f"worker {number} left out: {about.message}")
        if not ready:
            first = next(about for about in told if isinstance(about, Stop))
            raise TutorError(f"no worker could load its judge: {first.message}", ExitCode(first.exit_code))
        kinds = {about[:4] for _, about in ready}
        if len(kinds) > 1:
            differ = "; ".join(f"{name} {prov} prompts {hashed}" for name, _, prov, hashed in kinds)
            raise TutorError(f"the workers' judges differ (model, provenance or prompts): {differ}")
        self.workers = [worker for worker, _ in ready]
        name, mode, provenance, hashed = kinds.pop()
        if hashed != prompts_hash():  # the head is chosen here, for this machine's prompts
            raise TutorError(f"the workers' judge prompts ({hashed}) are not this machine's "
                             f"({prompts_hash()}): install the same tutor (and TUTOR_PROMPTS) on every node")
        return Described(name, mode, provenance)

    def _told(self, ref: Any) -> tuple[str, str, Provenance | None, str, int] | Stop:
        """A worker's description, or why it has none (lost while loading: out of memory, killed)."""
        try:
            told: tuple[str, str, Provenance | None, str, int] | Stop = self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:
            return Stop(f"lost while loading its judge ({type(exc).__name__})", ExitCode.BACKEND)
        return told

    def grader(self, bank: Bank, head: Head) -> "Dispatch":
        return Dispatch(self.ray, self.workers, self.ray.put(bank), self.ray.put(head), self.console)

    def close(self) -> None:
        """End the workers, and the local Ray instance if this run started it (once)."""
        ray, self.ray = self.ray, None
        if ray is None:
            return
        for worker in self.workers:
            ray.kill(worker)
        if self.started_ray:
            ray.shutdown()


def ray_module() -> Any:
    try:
        import ray
    except ImportError:
        raise TutorError("--cluster needs Ray: install tutor with its cluster extra "
                         "(pip install 'tutor[cluster]'; `make install` does)") from None
    return ray


def groups(todo: Iterable[Submission]) -> Iterator[list[Submission]]:
    """Answers to one question back to back (`by_question`'s windows), cut into groups of GROUP."""
    for window in by_question(todo):
        for _, same in groupby(window, key=lambda sub: sub.question_id):
            stream = iter(same)
            while group := list(islice(stream, GROUP)):
                yield group


class Dispatch:
    """Sends groups of answers to the workers and hands back each grade once, as groups return
    (`BatchRun.grade_all` writes them; `finalize` puts them in input order)."""

    def __init__(self, ray: Any, workers: list[Any], bank: Any, head: Any, console: Console):
        self.ray, self.workers, self.bank, self.head, self.console = ray, workers, bank, head, console
        self.flying: dict[Any, tuple[int, list[Submission]]] = {}  # ref → (worker, group)
        self.again: deque[list[Submission]] = deque()  # groups a lost worker held
        self.resent = 0  # answers sent again after their worker was lost
        self.losses = [0] * len(workers)

    def __call__(self, todo: Iterable[Submission]) -> Iterator[Graded]:
        fresh = groups(todo)
        try:
            while True:
                self._fill(fresh)
                if not self.flying:
                    return
                [ref], _ = self.ray.wait(list(self.flying), num_returns=1)
                if graded := self._collect(ref):
                    yield graded
        finally:
            for ref in self.flying:
                self.ray.cancel(ref, force=False)

    def _fill(self, fresh: Iterator[list[Submission]]) -> None:
        """Every worker given up to DEPTH groups: those sent again first, then new ones."""
        load = Counter(number for number, _ in self.flying.values())
        for number, worker in enumerate(self.workers):
            while self.losses[number] <= RESTARTS and load[number] < DEPTH:
                group = self.again.popleft() if self.again else next(fresh, None)
                if group is None:
                    return
                self.flying[worker.grade.remote(self.bank, self.head, group)] = (number, group)
                load[number] += 1

    def _collect(self, ref: Any) -> list[tuple[Submission, Grade]] | None:
        """A returned group's answers with their grades; None when its worker was lost."""
        number, group = self.flying.pop(ref)
        try:
            grades = self.ray.get(ref)
        except self.ray.exceptions.RayTaskError as exc:  # a bug in a worker: one line, not a traceback
            raise TutorError(f"worker {number + 1} failed: {' '.join(str(exc.cause).split())[:300]}",
                             ExitCode.BACKEND) from None
        except self.ray.exceptions.RayError as exc:  # the worker was lost: its answers go out again
            self._lost(number, group, exc)
            return None
        if isinstance(grades, Stop):
            raise TutorError(grades.message, ExitCode(grades.exit_code))
        return list(zip(group, grades, strict=True))

    def _lost(self, number: int, group: list[Submission], exc: Exception) -> None:
        """A lost worker's group goes out again; a worker lost more often than Ray restarts it
        is sent nothing more, and with none left the run stops (what was written stays)."""
        self.losses[number] += 1
        self.resent += len(group)
        self.again.append(group)
        self.console.warn(f"worker {number + 1} lost ({type(exc).__name__}); "
                          f"{plural(len(group), 'answer')} sent again")
        if all(lost > RESTARTS for lost in self.losses):
            raise TutorError(f"every worker of the cluster was lost ({type(exc).__name__}); the answers "
                             "graded so far are saved: run the same command again to grade the rest",
                             ExitCode.BACKEND)
