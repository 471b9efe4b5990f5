"""A hostile OpenAI-compatible server on 127.0.0.1 for tests: it lists model `m`, then answers
every chat request with a fixed body, an HTTP error, or nothing (it hangs until closed). It
counts the requests and keeps their headers and paths (a proxy sees the full URL)."""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODELS = {"object": "list", "data": [{"id": "m", "object": "model", "created": 0, "owned_by": "t"}]}


def completion(logprobs: object, content: str = "yes") -> dict:
    """A chat completion whose first choice carries `logprobs` as given (any shape)."""
    return {"id": "c", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "finish_reason": "length", "logprobs": logprobs,
                         "message": {"role": "assistant", "content": content}}]}


def top(*candidates: tuple[object, object]) -> dict:
    """`logprobs` with one position whose top candidates are (token, logprob) pairs."""
    return {"content": [{"token": "yes", "logprob": -0.1, "bytes": None,
                         "top_logprobs": [{"token": t, "logprob": p, "bytes": None} for t, p in candidates]}]}


@dataclass
class Reply:
    body: bytes = b""
    status: int = 200
    hang: bool = False  # never answer a chat request (until the server closes)
    models: bytes = json.dumps(MODELS).encode()  # the GET /models body
    drip: float = 0.0  # seconds between the bytes of a chat reply (0: all at once)


@dataclass
class FakeServer:
    reply: Reply
    posts: int = 0
    seen: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Authorization)
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}/v1"

    def close(self) -> None:
        self.released.set()
        if self.server:
            self.server.shutdown()
            self.server.server_close()


def serve(reply: Reply) -> FakeServer:
    fake = FakeServer(reply)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            self._record()
            self._send(200, fake.reply.models)

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self._record()
            with fake.lock:
                fake.posts += 1
            if fake.reply.hang:
                fake.released.wait(30)
                return
            if fake.reply.drip:
                self._drip(fake.reply.status, fake.reply.body)
                return
            self._send(fake.reply.status, fake.reply.body)

        def _drip(self, status: int, payload: bytes):
            """A server that sends its reply one byte at a time: each read gets a byte in time."""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            for byte in payload:
                if fake.released.wait(fake.reply.drip):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()

        def _record(self):
            with fake.lock:
                fake.seen.append((self.path, self.headers.get("Authorization")))

        def _send(self, status: int, payload: bytes):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    fake.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.server.daemon_threads = True
    threading.Thread(target=fake.server.serve_forever, daemon=True).start()
    return fake
