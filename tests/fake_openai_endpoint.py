"""TEST DOUBLE: a fake OpenAI-compatible endpoint on 127.0.0.1 with scripted answers.

Answers POST /v1/chat/completions and POST /v1/completions (text prompt). Stands in for a
served model where the test must know every answer in advance (to check
every metric exactly). The real thing (llama-cpp-python's server with a GGUF) is exercised
by the README's measured run and benchmarks/bench_evaluate.py.

The script maps (model, marker) to a reply: the first marker found in the last user message
decides. A reply is answer text (a list: one per request seed), or one of TIMEOUT (sleep past the client's timeout),
NOT_JSON (an HTML body), HTTP_500.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TIMEOUT = "<<timeout>>"
NOT_JSON = "<<not json>>"
HTTP_500 = "<<http 500>>"
GARBAGE = "I am a small model and I like turtles."


class FakeOpenAIEndpoint:
    """Start with `with FakeOpenAIEndpoint(script) as fake:`; fake.url ends in /v1; fake.requests lists bodies."""

    def __init__(self, script: dict[tuple[str, str], Any], sleep: float = 3.0) -> None:
        self.script = script
        self.sleep = sleep
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, body: bytes, kind: str = "application/json") -> None:
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:
                self._send(200, json.dumps({"object": "list", "data": [{"id": model} for model, _marker in fake.script]}).encode())

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                body["_authorization"] = self.headers.get("Authorization")
                body["_path"] = self.path
                fake.requests.append(body)
                reply = fake.reply(body)
                if isinstance(reply, list):
                    reply = reply[int(body.get("seed") or 0) % len(reply)]
                if reply == TIMEOUT:
                    time.sleep(fake.sleep)
                    return self._send(200, b"{}")
                if reply == NOT_JSON:
                    return self._send(200, b"<html><body>502 Bad Gateway</body></html>", "text/html")
                if reply == HTTP_500:
                    return self._send(500, b'{"error": "model crashed"}')
                if self.path.endswith("/chat/completions"):
                    choice = {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}
                else:
                    choice = {"index": 0, "text": reply, "finish_reason": "stop"}
                answer = {
                    "object": "chat.completion" if "message" in choice else "text_completion",
                    "model": body.get("model"),
                    "choices": [choice],
                    "usage": {"prompt_tokens": 100, "completion_tokens": len(reply.split()), "total_tokens": 100 + len(reply.split())},
                }
                self._send(200, json.dumps(answer).encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d/v1" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def reply(self, body: dict[str, Any]) -> Any:
        users = [m.get("content", "") for m in body.get("messages", []) if m.get("role") == "user"]
        # A text completion (ilab format): the question follows the last <|user|>.
        question = users[-1] if users else str(body.get("prompt", "")).rsplit("<|user|>", 1)[-1]
        for (model, marker), reply in self.script.items():
            if model == body.get("model") and marker in question:
                return reply
        return GARBAGE

    def __enter__(self) -> "FakeOpenAIEndpoint":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
