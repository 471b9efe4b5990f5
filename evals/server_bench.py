"""A class through an OpenAI-compatible server against the in-process judge, in one run.

    scripts/build_llama_server.sh      # once: llama.cpp's own server, built from the sdist
    .venv/bin/python evals/server_bench.py [--answers 24] [--slots 4]

Both grade the same dev answers through `tutor grade`'s own path (BatchRun) on this machine,
with the same number of threads: in process (the local judge, one answer at a time), and
through `llama-server -np SLOTS` (the OpenAI backend, SLOTS answers in flight, each answer's
claims one after another so a slot keeps its prompt cache). The server path reads P(yes) from
top log-probabilities and has no hidden states, so its grades come from the plain head: this
compares throughput, not grades. The result is answers/min for each and their ratio.
"""

import argparse
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tutor.core import model_store
from tutor.core.bank import load_bank
from tutor.core.grader import default_head
from tutor.core.judges.llama_runtime import available_cores
from tutor.core.judges.local import LocalJudge
from tutor.core.judges.openai_api import OpenAIJudge
from tutor.core.judges.registry import ReliableJudge
from tutor.teacher.batch.inputs import Submission
from tutor.teacher.batch.run import BatchRun
from tutor.teacher.evaluation import load_gold

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    sys.exit(f"llama-server did not answer at {url} within {seconds:.0f} s")


def per_minute(judge: ReliableJudge, subs: list[Submission], parallel: int) -> float:
    bank = load_bank()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        run = BatchRun(bank, judge, Path(out), parallel_answers=parallel, head=default_head(judge))
        list(run.grade_all(run.pending(subs, False)))
    return len(subs) / (time.perf_counter() - start) * 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=24)
    parser.add_argument("--slots", type=int, default=4)
    args = parser.parse_args()
    binary = subprocess.run([str(ROOT / "scripts" / "build_llama_server.sh")], check=True,
                            capture_output=True, text=True).stdout.strip().splitlines()[-1]
    gold = [g for g in load_gold("dev") if g.category in {"strong", "partial", "wrong", "reversed"}]
    picked = gold[:: max(1, len(gold) // args.answers)][: args.answers]
    subs = [Submission(g.id, g.id, g.question_id, g.answer) for g in picked]
    model, threads = model_store.resolve("default"), available_cores()
    local = ReliableJudge(LocalJudge.load(model))
    local.warm()
    in_process = per_minute(local, subs, 1)
    port = free_port()
    server = subprocess.Popen([binary, "-m", str(model), "--host", "127.0.0.1", "--port", str(port),
                               "-np", str(args.slots), "-c", str(2048 * args.slots), "-t", str(threads),
                               "--alias", "tutor-default"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/v1"
        wait_ready(url, 180)
        remote = ReliableJudge(OpenAIJudge(model="tutor-default", base_url=url, api_key="none",
                                           parallel_claims=1))
        remote.warm()
        served = per_minute(remote, subs, args.slots)
    finally:
        server.terminate()
        server.wait(30)
    print(f"{len(subs)} answers, model {model.name}, {threads} threads each")
    print(f"in process:               {in_process:6.2f} answers/min")
    print(f"llama-server -np {args.slots}:      {served:6.2f} answers/min")
    print(f"server / in process: x{served / in_process:.2f}")


if __name__ == "__main__":
    main()
