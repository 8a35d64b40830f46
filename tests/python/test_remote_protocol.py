"""The remote client against a fake server on 127.0.0.1: the exact requests
it sends (docs/api.md) and how it reads answers and errors.  Needs no
nexus."""

import json
import os
import threading
import unittest
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock

import support  # noqa: F401 (puts the tree's client on sys.path)
import nexus
from nexus import (AuthError, NexusError, SandboxNotFoundError,
                   SandboxTimeoutError)

KEY = "nxk_abcdefghijkl_" + "0" * 64
RECORD = {"sandbox_id": "ipi7dxuc5687axlhm5hmd", "name": "my-sandbox"}
RUN_RESULT = {"stdout": "héllo\n", "stderr": "", "exit_code": 0,
              "execution_time": 0.5}
RUN_ANSWER = dict(RUN_RESULT, stdout_base64="aMOpbGxvCg==", stderr_base64="")


class FakeServer(ThreadingHTTPServer):
    """Answers every request with ``reply`` and keeps what it was sent."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), FakeHandler)
        self.reply: tuple[int, bytes] = (200, b"{}")
        self.requests: list[dict[str, Any]] = []


class FakeHandler(BaseHTTPRequestHandler):
    server: FakeServer

    def answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.requests.append({
            "method": self.command,
            "path": self.path,
            "headers": self.headers,
            "body": self.rfile.read(length),
        })
        status, body = self.server.reply
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = answer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests say what went wrong."""


class RemoteProtocolTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.server = FakeServer()
        thread = threading.Thread(target=cls.server.serve_forever,
                                  daemon=True)
        thread.start()
        cls.addClassCleanup(cls.server.server_close)
        cls.addClassCleanup(cls.server.shutdown)
        cls.url = f"http://127.0.0.1:{cls.server.server_address[1]}"

    def setUp(self) -> None:
        self.server.requests.clear()
        self.nx = nexus.connect(url=self.url + "/", api_key=KEY)

    def reply(self, status: int, body: Any) -> None:
        self.server.reply = (status, body if isinstance(body, bytes)
                             else json.dumps(body).encode())

    def sent(self) -> dict[str, Any]:
        """The one request the last call made."""
        self.assertEqual(len(self.server.requests), 1)
        return self.server.requests[0]

    def assertSent(self, method: str, path: str,
                   body: dict[str, Any] | None = None) -> None:
        request = self.sent()
        self.assertEqual(request["method"], method)
        self.assertEqual(request["path"], path)
        self.assertEqual(request["headers"]["Authorization"], f"Bearer {KEY}")
        if body is None:
            self.assertEqual(request["body"], b"")
        else:
            self.assertEqual(request["headers"]["Content-Type"],
                             "application/json")
            self.assertEqual(json.loads(request["body"]), body)

    def test_create(self) -> None:
        self.reply(201, RECORD)
        self.assertEqual(self.nx.sandbox_create("my-sandbox"), RECORD)
        self.assertSent("POST", "/v1/sandboxes",
                        {"name": "my-sandbox", "ttl_minutes": 10})
        self.server.requests.clear()
        self.nx.sandbox_create("ml", ttl_minutes=60, template_id="python",
                               agent_id="agent_123")
        self.assertSent("POST", "/v1/sandboxes",
                        {"name": "ml", "ttl_minutes": 60,
                         "template_id": "python", "agent_id": "agent_123"})
        self.server.requests.clear()
        self.nx.sandbox_create("gv", isolation="gvisor")
        self.assertSent("POST", "/v1/sandboxes",
                        {"name": "gv", "ttl_minutes": 10,
                         "isolation": "gvisor"})

    def test_run_drops_the_exact_bytes_fields(self) -> None:
        self.reply(200, RUN_ANSWER)
        code = "print('héllo')\n$(x) `y` \"z\""
        self.assertEqual(self.nx.sandbox_run("a/b c?", "python", code,
                                             timeout=5),
                         RUN_RESULT)
        self.assertSent("POST", "/v1/sandboxes/a%2Fb%20c%3F/run",
                        {"language": "python", "code": code, "timeout": 5})

    def test_list(self) -> None:
        self.reply(200, {"sandboxes": [RECORD]})
        self.assertEqual(self.nx.sandbox_list(), {"sandboxes": [RECORD]})
        self.assertSent("GET", "/v1/sandboxes")
        self.server.requests.clear()
        self.nx.sandbox_list(context={"user": "alice", "agent_id": "a&b",
                                      "tenant_id": None},
                             verify_status=True)
        self.assertSent("GET",
                        "/v1/sandboxes?user_id=alice&agent_id=a%26b&verify=true")

    def test_status_pause_resume_stop(self) -> None:
        self.reply(200, RECORD)
        calls = [
            (lambda: self.nx.sandbox_status("sb 1"), "GET",
             "/v1/sandboxes/sb%201"),
            (lambda: self.nx.sandbox_status("sb", verify=True), "GET",
             "/v1/sandboxes/sb?verify=true"),
            (lambda: self.nx.sandbox_pause("sb"), "POST",
             "/v1/sandboxes/sb/pause"),
            (lambda: self.nx.sandbox_resume("sb"), "POST",
             "/v1/sandboxes/sb/resume"),
            (lambda: self.nx.sandbox_stop("sb"), "POST",
             "/v1/sandboxes/sb/stop"),
        ]
        for call, method, path in calls:
            with self.subTest(path=path):
                self.server.requests.clear()
                self.assertEqual(call(), RECORD)
                self.assertSent(method, path)

    def test_key_from_environment_or_none(self) -> None:
        self.reply(200, {"sandboxes": []})
        with mock.patch.dict(os.environ, {"NEXUS_API_KEY": "nxk_env"}):
            nexus.connect(url=self.url).sandbox_list()
        self.assertEqual(self.sent()["headers"]["Authorization"],
                         "Bearer nxk_env")
        self.server.requests.clear()
        with mock.patch.dict(os.environ):
            os.environ.pop("NEXUS_API_KEY", None)
            nexus.connect(url=self.url).sandbox_list()
        self.assertNotIn("Authorization", self.sent()["headers"])

    def test_request_timeouts(self) -> None:
        self.reply(200, RUN_ANSWER)
        with mock.patch("urllib.request.urlopen",
                        wraps=urllib.request.urlopen) as urlopen:
            self.nx.sandbox_run("sb", "python", "1", timeout=5)
            self.nx.sandbox_stop("sb")
        self.assertEqual([call.kwargs["timeout"]
                          for call in urlopen.call_args_list], [35, 60])

    def test_errors(self) -> None:
        cases = [
            (404, "not_found", SandboxNotFoundError),
            (401, "auth", AuthError),
            (403, "forbidden", AuthError),
            (409, "state", NexusError),
            (400, "usage", NexusError),
        ]
        for status, kind, exception in cases:
            with self.subTest(kind=kind):
                message = f"a {kind} error 'x'"
                self.reply(status, {"error": {"kind": kind,
                                              "message": message}})
                with self.assertRaises(exception) as caught:
                    self.nx.sandbox_status("x")
                self.assertEqual(caught.exception.kind, kind)
                self.assertEqual(str(caught.exception), message)

    def test_timeout_keeps_output(self) -> None:
        message = "Code execution exceeded 1 second timeout"
        self.reply(504, {"error": {"kind": "timeout", "message": message},
                         "result": dict(RUN_ANSWER, exit_code=124)})
        with self.assertRaises(SandboxTimeoutError) as caught:
            self.nx.sandbox_run("sb", "python", "1", timeout=1)
        self.assertEqual(str(caught.exception), message)
        self.assertEqual(caught.exception.result,
                         dict(RUN_RESULT, exit_code=124))

    def test_not_a_nexus_answer(self) -> None:
        for status, body in ((502, b"<html>Bad Gateway</html>"),
                             (500, {"detail": "boom"}),
                             (200, [1, 2])):
            with self.subTest(status=status, body=body):
                self.reply(status, body)
                with self.assertRaises(NexusError) as caught:
                    self.nx.sandbox_list()
                self.assertEqual(caught.exception.kind, "protocol")
                self.assertIn(f"HTTP {status}", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
