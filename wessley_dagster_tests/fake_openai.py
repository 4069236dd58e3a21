"""A local stand-in for OpenAI's embeddings endpoint (no real OpenAI API can run here).

It checks every request as the API reference documents it (`POST /v1/embeddings`, `Authorization:
Bearer <key>`, a JSON body with `model`, an `input` list of 1 to 2,048 strings each within 8,192
tokens and 300,000 in all, optional `dimensions`, `encoding_format`) and answers in the documented
shape (`{"object": "list", "data": [{"object": "embedding", "index", "embedding"}], "model",
"usage": {"prompt_tokens", "total_tokens"}}`; each embedding as JSON numbers, or for
`encoding_format: base64` as float32 little-endian bytes in base64), listing the data in reverse order to prove that the
client orders by index. Faults are scripted: 429 with or without `Retry-After`, 500, a dropped
connection. A request that breaks the contract is answered 400 and recorded as a violation.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

from wessley_dagster.stores.openai_embedder import MAX_INPUT_TOKENS, MAX_INPUTS, MAX_REQUEST_TOKENS, count_tokens

KEY = "sk-test-0123456789abcdef"


def _unit(text: str, dimensions: int) -> np.ndarray:
    raw = np.frombuffer(hashlib.shake_256(text.encode()).digest(dimensions), np.uint8).astype(np.float64) - 127.5
    return raw / np.linalg.norm(raw)


def vector_for(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector per text, as a real model would give the same text the same vector."""
    return _unit(text, dimensions).tolist()


def encoded(text: str, dimensions: int, encoding_format: str) -> list[float] | str:
    """The vector as the API sends it: JSON numbers, or float32 little-endian bytes in base64."""
    if encoding_format == "base64":
        return base64.b64encode(_unit(text, dimensions).astype("<f4").tobytes()).decode()
    return vector_for(text, dimensions)


@dataclass
class Seen:
    at: float
    inputs: list[str]
    tokens: int
    body: dict[str, Any]


@dataclass
class FakeOpenAI:
    faults: deque[tuple[Any, ...]] = field(default_factory=deque)  # ("status", 429, {"Retry-After": "1"}), ("drop",)
    requests: list[Seen] = field(default_factory=list)  # every well-formed request, answered or not
    violations: list[str] = field(default_factory=list)
    latency: float = 0.0  # seconds per answered request, to simulate the network and the model
    default_dimensions: int = 1536

    def start(self) -> FakeOpenAI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                fake.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _reject(self, handler: BaseHTTPRequestHandler, status: int, problem: str) -> None:
        self.violations.append(problem)
        self._send(handler, status, {"error": {"message": problem, "type": "invalid_request_error"}})

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: dict, headers: dict | None = None) -> None:
        payload = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        raw = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
        if handler.path != "/v1/embeddings":
            return self._reject(handler, 404, f"path {handler.path}")
        if handler.headers.get("Authorization") != f"Bearer {KEY}":
            error = {"message": "Incorrect API key provided: sk-wr***ng", "code": "invalid_api_key"}
            return self._send(handler, 401, {"error": error})
        body = json.loads(raw)
        inputs = body.get("input")
        if not isinstance(body.get("model"), str):
            return self._reject(handler, 400, "model missing")
        if (
            not isinstance(inputs, list)
            or not 1 <= len(inputs) <= MAX_INPUTS
            or not all(isinstance(i, str) and i for i in inputs)
        ):
            return self._reject(handler, 400, f"input must be a list of 1..{MAX_INPUTS} non-empty strings")
        if body.get("encoding_format", "float") not in ("float", "base64"):
            return self._reject(handler, 400, "encoding_format")
        if "dimensions" in body and (not isinstance(body["dimensions"], int) or body["dimensions"] < 1):
            return self._reject(handler, 400, "dimensions")
        sizes = [count_tokens(i) for i in inputs]
        if max(sizes) > MAX_INPUT_TOKENS or sum(sizes) > MAX_REQUEST_TOKENS:
            return self._reject(handler, 400, f"token limits: max input {max(sizes)}, total {sum(sizes)}")
        self.requests.append(Seen(time.monotonic(), inputs, sum(sizes), body))
        fault = self.faults.popleft() if self.faults else ("ok",)
        if fault[0] == "drop":
            handler.close_connection = True
            handler.connection.shutdown(2)  # no status line at all: the client sees a dropped connection
            return None
        if fault[0] == "status":
            return self._send(
                handler, fault[1], {"error": {"message": f"simulated {fault[1]}"}}, fault[2] if len(fault) > 2 else None
            )
        time.sleep(self.latency)
        size = body.get("dimensions", self.default_dimensions)
        how = body.get("encoding_format", "float")
        data = [
            {"object": "embedding", "index": i, "embedding": encoded(text, size, how)} for i, text in enumerate(inputs)
        ]
        usage = {"prompt_tokens": sum(sizes), "total_tokens": sum(sizes)}
        return self._send(handler, 200, {"object": "list", "data": data[::-1], "model": body["model"], "usage": usage})
