#!/usr/bin/env python3
"""Fake E2B service for the nexus tests: control plane and envd on one port.

    python3 tests/fake/e2b_server.py [--port 0] [--api-key e2b_test_key]
            [--fail-create CODE] [--keepalive 1.0] [--no-parent-watch]

Listens on 127.0.0.1 only, prints exactly one line "PORT <n>" on stdout and
logs "METHOD PATH STATUS" per request on stderr.  Point the plugin at it with
    E2B_API_URL=http://127.0.0.1:<n>
    E2B_ENVD_URL=http://127.0.0.1:<n>/envd/{sandboxID}
On SIGTERM, SIGINT, SIGHUP, or when the process that started it exits
(unless --no-parent-watch), it kills every process it started and removes
every sandbox directory.

Control plane.  X-API-Key must equal --api-key, else 401 "Invalid API key";
errors are {"code": N, "message": "..."}.
  POST   /sandboxes               {"templateID", "timeout" (15), "metadata",
                                  "envVars"} -> 201 {sandboxID, templateID, alias,
                                  clientID, envdVersion, envdAccessToken,
                                  trafficAccessToken: null, domain: null}
  GET    /v2/sandboxes            ?state=running,paused&metadata=k%3Dv&limit=N
                                  &nextToken=T; X-Next-Token when more
  GET    /sandboxes/{id}          200; 404 once killed or expired
  DELETE /sandboxes/{id}          204; 404 when gone
  POST   /sandboxes/{id}/timeout  {"timeout": s} 204; gone s seconds from now
                                  (a paused sandbox does not expire)
  POST   /sandboxes/{id}/pause    204, its processes get SIGSTOP; 409 if paused
  POST   /sandboxes/{id}/connect  {"timeout": s} 201 resumed, 200 was running

envd under /envd/{id}: unknown or killed sandbox 404, paused 502 (JSON, like
E2B's proxy); then X-Access-Token must be the sandbox's envdAccessToken (401).
  POST /envd/{id}/process.Process/Start       Connect streaming, see below
  POST /envd/{id}/process.Process/SendSignal  {"process":{"pid":N},"signal":
                                              "SIGNAL_SIGKILL"} -> 200 {}
  GET  /envd/{id}/health                      204
  GET  /envd/{id}/files?path=P                the file's bytes
  POST /envd/{id}/files?path=P                upload: octet-stream body or
                                              multipart field "file"
Start really runs cmd + args here (no shell), each process in a session of its
own, stdin /dev/null.  The sandbox's temp directory holds its file system:
/home/user is <dir>/root/home/user, another absolute path P is <dir>/root/P, a
relative path is under /home/user.  cwd and HOME are mapped, and "/home/user"
in cmd, args and env values is rewritten to the mapped directory, so a file
uploaded to /home/user/x runs as /home/user/x.  The stream: start, data
(stdout/stderr base64) as output arrives, a keepalive after each --keepalive
seconds of silence, end (proto3: zero values omitted; a signal gives
{"exited" omitted, "status": "signal: killed"}), then the 0x02 trailer {}.
As with envd, a process outlives a client that hangs up; SendSignal, the
sandbox's end or the server's kills it (/_fake/state lists live pids).

Hostile modes, per sandbox: metadata {"fake_mode": M} at create, or
/_fake/mode.  The Start modes kill the real process at once.
  truncate           start, data "partial\\n", 7 bytes of an envelope, then
                     the connection drops (no terminating chunk)
  bad_envelope       start, data, a header declaring 1000 bytes and 9 bytes,
                     then a clean end of the HTTP body
  bad_json           start, a well-framed envelope of garbage JSON, trailer {}
  huge_envelope      start, a header declaring 64 MiB, then 64 MiB of "x" for
                     as long as the client reads, trailer {}
  bad_base64         start, stdout data that is not base64, end, trailer {}
  stall              start, then nothing (no keepalives; the process keeps
                     running) until the client hangs up or the sandbox is gone
  error_trailer      start, data "partial\\n", then the trailer
                     {"error":{"code":"internal","message":"boom"}}
  unsupported_pause  pause answers 404 {"code":404,"message":"Not found"}
  http500            every control-plane call for it after create: 500
  disk_full          uploads answer 507

Test control, no auth:
  POST /_fake/mode   {"create_status": N}        the next create answers N
                     {"next_mode": M}            the next sandbox gets mode M
                     {"sandbox": ID, "mode": M}  change a live sandbox's mode
                     {"clear_requests": true}    empty the request log
  GET  /_fake/state  {"sandboxes": [{id, state, mode, timeout, timeoutSetAt,
                     endAt, dir, home, metadata, pids}], "requests": [{method,
                     path, status, headers, body}]} (last 1000 requests)
"""

import argparse, base64, email.parser, email.policy, json, os, posixpath, queue, re
import secrets, select, shutil, signal, string, struct, subprocess, sys, tempfile
import threading, time, traceback
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, urlsplit

HOME = "/home/user"
HOME_RE = re.compile(r"/home/user(?![\w.-])")
MAX_BODY = 256 << 20
STREAM_MODES = {"truncate", "bad_envelope", "bad_json", "huge_envelope", "bad_base64",
                "error_trailer"}
MODES = STREAM_MODES | {"", "stall", "unsupported_pause", "http500", "disk_full"}
# Go's names for signals, as envd's "status" carries them.
SIGNAMES = {1: "hangup", 2: "interrupt", 3: "quit", 6: "aborted", 9: "killed",
            11: "segmentation fault", 13: "broken pipe", 15: "terminated"}
SIGNALS = {"SIGNAL_SIGKILL": signal.SIGKILL, "SIGNAL_SIGTERM": signal.SIGTERM,
           9: signal.SIGKILL, 15: signal.SIGTERM}
CREATE_ERRORS = {401: "Invalid API key", 409: "sandbox conflict",
                 429: "rate limit exceeded", 500: "internal server error"}


class State:
    lock = threading.Lock()
    sandboxes = {}
    requests = []
    create_status = None
    next_mode = None
    args = None
    stop = threading.Event()


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def b64(data):
    return base64.b64encode(data).decode()


def envelope(msg, flags=0):
    body = msg if isinstance(msg, bytes) else json.dumps(msg, separators=(",", ":")).encode()
    return struct.pack(">BI", flags, len(body)) + body


def event(**ev):
    return envelope({"event": ev})


def end_event(rc):
    if rc < 0:  # killed by a signal: exited (false) and exitCode (0) are omitted
        return event(end={"status": "signal: " + SIGNAMES.get(-rc, f"signal {-rc}")})
    end = {"exited": True, "status": f"exit status {rc}"}
    return event(end=dict(end, exitCode=rc) if rc else end)


def valid_timeout(t):
    return isinstance(t, int) and not isinstance(t, bool) and 0 <= t <= 86400


class Proc:
    """A running command; its output, EOFs and exit status arrive on q."""

    def __init__(self, popen):
        self.popen, self.q = popen, queue.Queue()
        for name, pipe in (("stdout", popen.stdout), ("stderr", popen.stderr)):
            threading.Thread(target=self._read, args=(name, pipe), daemon=True).start()
        threading.Thread(target=lambda: self.q.put(("exit", popen.wait())), daemon=True).start()

    def _read(self, name, pipe):
        with pipe:
            while chunk := os.read(pipe.fileno(), 65536):
                self.q.put((name, chunk))
        self.q.put(("eof", name))

    def signal(self, sig):
        try:
            os.killpg(self.popen.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


class Sandbox:
    def __init__(self, template, timeout, metadata, env_vars, mode):
        self.id = "".join(secrets.choice(string.ascii_lowercase + string.digits)
                          for _ in range(20))
        self.template, self.metadata, self.env_vars, self.mode = template, metadata, env_vars, mode
        self.token = secrets.token_urlsafe(24)
        self.dir = tempfile.mkdtemp(prefix=f"e2b-fake-{self.id}-")
        self.home = self.host_path(HOME)
        os.makedirs(self.home)
        self.started, self.state, self.procs, self.gone = time.time(), "running", {}, False
        self.set_timeout(timeout)

    def set_timeout(self, timeout):
        self.timeout, self.timeout_set_at = timeout, time.time()
        self.end_at = self.timeout_set_at + timeout

    def host_path(self, path):
        if not path.startswith("/"):
            path = HOME + "/" + path
        # normpath of an absolute path drops every "..": nothing escapes root
        return os.path.join(self.dir, "root", posixpath.normpath(path).lstrip("/"))

    def created(self):
        return {"sandboxID": self.id, "templateID": self.template, "alias": self.template,
                "clientID": "6532622b", "envdVersion": "0.2.0", "envdAccessToken": self.token,
                "trafficAccessToken": None, "domain": None}

    def listed(self):
        iso = lambda t: datetime.fromtimestamp(t, timezone.utc).isoformat()[:-6] + "Z"  # noqa: E731
        return {"sandboxID": self.id, "templateID": self.template, "alias": self.template,
                "clientID": "6532622b", "envdVersion": "0.2.0", "startedAt": iso(self.started),
                "endAt": iso(self.end_at), "state": self.state, "cpuCount": 2,
                "memoryMB": 512, "diskSizeMB": 512, "metadata": self.metadata}

    def signal_all(self, sig):
        for p in list(self.procs.values()):
            p.signal(sig)

    def destroy(self):
        self.gone = True
        self.signal_all(signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)


def expire():
    now = time.time()
    with State.lock:
        dead = [s for s in State.sandboxes.values() if s.state == "running" and now >= s.end_at]
        for s in dead:
            del State.sandboxes[s.id]
    for s in dead:
        log(f"sandbox {s.id} expired")
        s.destroy()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "e2b-fake/1"
    body = b""

    def handle_any(self):
        try:
            self.route()
        except (BrokenPipeError, ConnectionResetError):
            log(f"{self.command} {self.path}: client went away")
            self.close_connection = True
        except Exception:
            log(traceback.format_exc())
            self.close_connection = True
            try:  # useless if the answer had begun, but the connection closes anyway
                self.error(500, "fake server bug, see its stderr")
            except OSError:
                pass

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = handle_any

    # -- plumbing ----------------------------------------------------------
    def log_request(self, code="-", size="-"):
        log(f"{self.command} {self.path} {int(code)}")
        try:  # a Start request's body is one envelope
            parsed = json.loads(self.body[5:] if self.body[:1] == b"\0" else self.body)
        except ValueError:
            parsed = None
        with State.lock:
            State.requests.append({"method": self.command, "path": self.path, "status": int(code),
                                   "headers": dict(self.headers.items()), "body": parsed})
            del State.requests[:-1000]

    def log_message(self, fmt, *args):
        log(fmt % args)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while size := int(self.rfile.readline(1024).split(b";")[0], 16):
                out += self.rfile.read(size)
                self.rfile.readline(1024)
                if len(out) > MAX_BODY:
                    raise ValueError("request body too large")
            while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return bytes(out)
        n = int(self.headers.get("Content-Length") or 0)
        if not 0 <= n <= MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(n)

    def reply(self, status, data=b"", ctype="application/json", headers=()):
        self.send_response(status)
        if status != 204:
            headers = [("Content-Type", ctype), ("Content-Length", len(data)), *headers]
        for k, v in headers:
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(data)

    def send_json(self, status, obj, headers=()):
        self.reply(status, json.dumps(obj).encode(), headers=headers)

    def error(self, status, message, code=None):
        """E2B's {"code": N}, or Connect's {"code": "name"} when code is given."""
        self.send_json(status, {"code": code or status, "message": message})

    def json_body(self):
        """The request's JSON object, or None after answering 400."""
        try:
            obj = json.loads(self.body or b"{}")
            if isinstance(obj, dict):
                return obj
        except ValueError:
            pass
        return self.error(400, "request body is not a JSON object")

    def begin_stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/connect+json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def finish_stream(self):
        self.wfile.write(b"0\r\n\r\n")

    def abort(self):
        """Drop the connection without ending the chunked body."""
        self.close_connection = True

    def stream_error(self, code, message):
        self.begin_stream()
        self.chunk(envelope({"error": {"code": code, "message": message}}, 2))
        self.finish_stream()

    # -- routing -----------------------------------------------------------
    def route(self):
        url = urlsplit(self.path)
        self.query = parse_qs(url.query)
        try:  # read it first, whatever the answer, to keep the connection usable
            self.body = self.read_body()
        except ValueError as e:
            self.close_connection = True
            return self.error(400, str(e))
        expire()
        if url.path.startswith("/_fake/"):
            return self.fake(url.path)
        if m := re.fullmatch(r"/envd/([^/]+)(/.*)", url.path):
            return self.envd(m[1], m[2])
        if self.headers.get("X-API-Key") != State.args.api_key:
            return self.error(401, "Invalid API key")
        if (self.command, url.path) == ("POST", "/sandboxes"):
            return self.create()
        if (self.command, url.path) == ("GET", "/v2/sandboxes"):
            return self.list()
        m = re.fullmatch(r"/sandboxes/([^/]+)(?:/(timeout|pause|connect|resume))?", url.path)
        if not m:
            return self.error(404, "Not found")
        with State.lock:
            sb = State.sandboxes.get(m[1])
        if sb is None:
            return self.error(404, f"sandbox \"{m[1]}\" not found")
        if sb.mode == "http500":
            return self.error(500, "internal server error")
        action = {("GET", None): self.get, ("DELETE", None): self.kill,
                  ("POST", "timeout"): self.set_timeout, ("POST", "pause"): self.pause,
                  ("POST", "connect"): self.connect, ("POST", "resume"): self.connect,
                  }.get((self.command, m[2]))
        return action(sb) if action else self.error(405, "method not allowed")

    # -- control plane -----------------------------------------------------
    def create(self):
        req = self.json_body()
        if req is None:
            return
        with State.lock:
            status, State.create_status = State.create_status or State.args.fail_create, None
            mode, State.next_mode = State.next_mode, None
        if status:
            return self.error(status, CREATE_ERRORS.get(status, f"fake create failure {status}"))
        template, timeout = req.get("templateID"), req.get("timeout", 15)
        metadata, env_vars = req.get("metadata") or {}, req.get("envVars") or {}
        if not isinstance(template, str) or not template:
            return self.error(400, "templateID is required")
        if not valid_timeout(timeout):
            return self.error(400, "timeout must be an integer from 0 to 86400")
        for d in (metadata, env_vars):
            if not isinstance(d, dict) or not all(isinstance(v, str) for v in d.values()):
                return self.error(400, "metadata and envVars must map strings to strings")
        mode = metadata.get("fake_mode", "") if mode is None else mode
        if mode not in MODES:
            return self.error(400, f"unknown fake_mode \"{mode}\"")
        sb = Sandbox(template, timeout, metadata, env_vars, mode)
        with State.lock:
            State.sandboxes[sb.id] = sb
        self.send_json(201, sb.created())

    def list(self):
        states = set(",".join(self.query.get("state", ["running,paused"])).split(","))
        want = parse_qsl(self.query.get("metadata", [""])[0])
        try:
            limit = int(self.query.get("limit", ["100"])[0])
            start = int(self.query.get("nextToken", ["0"])[0])
        except ValueError:
            limit = start = -1
        if not states <= {"running", "paused"} or not 1 <= limit <= 100 or start < 0:
            return self.error(400, "bad state, limit or nextToken")
        with State.lock:
            sbs = sorted(State.sandboxes.values(), key=lambda s: (s.started, s.id))
        sbs = [s for s in sbs if s.state in states and all(s.metadata.get(k) == v for k, v in want)]
        more = [("X-Next-Token", start + limit)] if start + limit < len(sbs) else []
        self.send_json(200, [s.listed() for s in sbs[start:start + limit]], more)

    def get(self, sb):
        self.send_json(200, dict(sb.listed(), envdAccessToken=sb.token, domain=None))

    def kill(self, sb):
        with State.lock:
            State.sandboxes.pop(sb.id, None)
        sb.destroy()
        self.reply(204)

    def timeout_arg(self):
        """The body's "timeout", or None after answering 400."""
        req = self.json_body()
        if req is not None and valid_timeout(req.get("timeout")):
            return req["timeout"]
        if req is not None:
            self.error(400, "timeout must be an integer from 0 to 86400")

    def set_timeout(self, sb):
        if (timeout := self.timeout_arg()) is not None:
            sb.set_timeout(timeout)
            self.reply(204)

    def pause(self, sb):
        if sb.mode == "unsupported_pause":
            return self.error(404, "Not found")
        if sb.state == "paused":
            return self.error(409, f"sandbox \"{sb.id}\" is already paused")
        sb.state = "paused"
        sb.signal_all(signal.SIGSTOP)
        self.reply(204)

    def connect(self, sb):
        if (timeout := self.timeout_arg()) is None:
            return
        resumed = sb.state == "paused"
        if resumed:
            sb.state = "running"
            sb.signal_all(signal.SIGCONT)
        if resumed or time.time() + timeout > sb.end_at:  # a running one is only extended
            sb.set_timeout(timeout)
        self.send_json(201 if resumed else 200, sb.created())

    # -- envd --------------------------------------------------------------
    def envd(self, sid, sub):
        with State.lock:
            sb = State.sandboxes.get(sid)
        if sb is None:
            return self.send_json(404, {"sandboxId": sid, "code": 404,
                                        "message": "The sandbox was not found"})
        if sb.state == "paused":
            return self.send_json(502, {"sandboxId": sid, "code": 502,
                                        "message": "The sandbox is paused"})
        if self.headers.get("X-Access-Token") != sb.token:
            return self.error(401, "invalid access token", "unauthenticated")
        handler = {("GET", "/health"): lambda _: self.reply(204),
                   ("POST", "/process.Process/Start"): self.start,
                   ("POST", "/process.Process/SendSignal"): self.send_signal,
                   ("GET", "/files"): self.download, ("POST", "/files"): self.upload,
                   }.get((self.command, sub))
        if handler is None:
            return self.error(404, f"no route {self.command} {sub}", "not_found")
        handler(sb)

    def send_signal(self, sb):
        try:
            req = json.loads(self.body)
            pid, sig = req["process"]["pid"], SIGNALS[req["signal"]]
        except (ValueError, KeyError, TypeError):
            return self.error(400, "bad SendSignal request", "invalid_argument")
        p = sb.procs.get(pid) if isinstance(pid, int) else None
        if p is None or p.popen.returncode is not None:
            return self.error(404, f"process with pid {pid} not found", "not_found")
        p.signal(sig)
        self.send_json(200, {})

    def download(self, sb):
        path = self.query.get("path", [""])[0]
        try:
            with open(sb.host_path(path), "rb") as f:
                data = f.read()
        except OSError:
            return self.error(404, f"path \"{path}\" does not exist or is not a file")
        self.reply(200, data, "application/octet-stream")

    def upload(self, sb):
        path, data = self.query.get("path", [""])[0], self.body
        if not path:
            return self.error(400, "path is required")
        if sb.mode == "disk_full":
            return self.error(507, "not enough disk space")
        ctype = self.headers.get("Content-Type", "")
        if ctype.startswith("multipart/form-data"):
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + data)
            parts = [p for p in msg.iter_parts()
                     if p.get_param("name", header="content-disposition") == "file"]
            if not parts:
                return self.error(400, "multipart body has no \"file\" field")
            data = parts[0].get_payload(decode=True)
        try:
            os.makedirs(os.path.dirname(sb.host_path(path)), exist_ok=True)
            with open(sb.host_path(path), "wb") as f:
                f.write(data)
        except OSError as e:
            return self.error(400, f"cannot write \"{path}\": {e.strerror}")
        self.send_json(200, [{"name": posixpath.basename(path), "type": "file", "path": path}])

    def start(self, sb):
        if not self.headers.get("Content-Type", "").startswith("application/connect+json"):
            return self.error(415, "want application/connect+json", "invalid_argument")
        try:
            flags, size = struct.unpack(">BI", self.body[:5])
            if flags != 0 or size != len(self.body) - 5:
                raise ValueError("bad request envelope")
            proc = json.loads(self.body[5:])["process"]
            cmd, args = proc["cmd"], proc.get("args") or []
            envs, cwd = proc.get("envs") or {}, proc.get("cwd") or HOME
            if not all(isinstance(a, str) for a in [cmd, cwd, *args, *envs.values()]):
                raise ValueError("cmd, args, envs and cwd must be strings")
        except (struct.error, ValueError, KeyError, TypeError, AttributeError) as e:
            return self.stream_error("invalid_argument", f"bad Start request: {e}")
        mapped = lambda s: HOME_RE.sub(sb.home, s)  # noqa: E731
        env = dict(os.environ, HOME=sb.home, USER="user", PWD=sb.host_path(cwd))
        env.update({k: mapped(v) for k, v in {**sb.env_vars, **envs}.items()})
        try:
            popen = subprocess.Popen([mapped(cmd)] + [mapped(a) for a in args],
                                     cwd=sb.host_path(cwd), env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True)
        except OSError as e:
            return self.stream_error("internal", f"error starting process: {e}")
        p = sb.procs[popen.pid] = Proc(popen)
        log(f"sandbox {sb.id}: pid {popen.pid} runs {[cmd] + args}")
        self.begin_stream()
        self.chunk(event(start={"pid": popen.pid}))
        if sb.mode == "stall":
            return self.stall(sb)
        if sb.mode in STREAM_MODES:
            p.signal(signal.SIGKILL)
            return self.hostile(sb.mode)
        self.pump(sb, p)

    def pump(self, sb, p):
        eofs, rc, exited_at, last = 0, None, 0, time.monotonic()
        # A background child may hold the pipes open: wait a second for EOF at most.
        while rc is None or (eofs < 2 and time.monotonic() - exited_at < 1):
            if sb.gone or State.stop.is_set():
                return self.abort()
            try:
                kind, val = p.q.get(timeout=0.1)
            except queue.Empty:
                if time.monotonic() - last >= State.args.keepalive:
                    self.chunk(event(keepalive={}))
                    last = time.monotonic()
                continue
            if kind in ("stdout", "stderr"):
                self.chunk(event(data={kind: b64(val)}))
                last = time.monotonic()
            elif kind == "eof":
                eofs += 1
            else:
                rc, exited_at = val, time.monotonic()
        self.chunk(end_event(rc) + envelope({}, 2))
        self.finish_stream()

    def stall(self, sb):
        while not sb.gone and not State.stop.is_set():
            if select.select([self.connection], [], [], 0.2)[0]:
                break  # the client hung up (or wrote something: stop either way)
        self.abort()

    def hostile(self, mode):
        part = event(data={"stdout": b64(b"partial\n")})
        if mode == "truncate":
            self.chunk(part + part[:7])
            return self.abort()
        if mode == "bad_envelope":
            self.chunk(part + struct.pack(">BI", 0, 1000) + b'{"event":')
        elif mode == "bad_json":
            self.chunk(envelope(b'{"event": {"data": \xff garbage') + envelope({}, 2))
        elif mode == "huge_envelope":
            self.chunk(struct.pack(">BI", 0, 64 << 20))
            for _ in range(1024):
                self.chunk(b"x" * 65536)
            self.chunk(envelope({}, 2))
        elif mode == "bad_base64":
            self.chunk(event(data={"stdout": "@@ this is not base64 @@"})
                       + end_event(0) + envelope({}, 2))
        elif mode == "error_trailer":
            self.chunk(part + envelope({"error": {"code": "internal", "message": "boom"}}, 2))
        self.finish_stream()

    # -- test control ------------------------------------------------------
    def fake(self, path):
        if (self.command, path) == ("GET", "/_fake/state"):
            with State.lock:  # not held while answering: log_request takes it
                sbs = [{"id": s.id, "state": s.state, "mode": s.mode, "timeout": s.timeout,
                        "timeoutSetAt": s.timeout_set_at, "endAt": s.end_at, "dir": s.dir,
                        "home": s.home, "metadata": s.metadata,
                        "pids": [pid for pid, p in s.procs.items() if p.popen.returncode is None]}
                       for s in State.sandboxes.values()]
                reqs = list(State.requests)
            return self.send_json(200, {"sandboxes": sbs, "requests": reqs})
        if (self.command, path) != ("POST", "/_fake/mode"):
            return self.error(404, "Not found")
        if (req := self.json_body()) is None:
            return
        if any(req.get(k, "") not in MODES for k in ("mode", "next_mode")):
            return self.error(400, "unknown mode")
        status = req.get("create_status")
        if status is not None and not (isinstance(status, int) and 100 <= status <= 599):
            return self.error(400, "create_status must be an HTTP status")
        with State.lock:
            sb = State.sandboxes.get(req.get("sandbox"))
        if "sandbox" in req and sb is None:
            return self.error(404, "no such sandbox")
        if sb:
            sb.mode = req.get("mode", "")
        with State.lock:
            if "create_status" in req:
                State.create_status = status
            if "next_mode" in req:
                State.next_mode = req["next_mode"]
            if req.get("clear_requests"):
                State.requests.clear()
        self.send_json(200, {})


class Server(ThreadingHTTPServer):
    daemon_threads = True  # a stalled stream must not hold up the exit
    request_queue_size = 64


def watch(ppid):
    while not State.stop.wait(0.2):
        expire()
        if ppid and os.getppid() != ppid:
            log("parent went away: exiting")
            os.kill(os.getpid(), signal.SIGTERM)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--api-key", default="e2b_test_key")
    ap.add_argument("--fail-create", type=int, metavar="CODE", help="every create answers CODE")
    ap.add_argument("--keepalive", type=float, default=1.0, metavar="SECONDS")
    ap.add_argument("--no-parent-watch", action="store_true",
                    help="keep running when the process that started it exits")
    State.args = ap.parse_args()
    # SIGINT too: a shell starts background jobs with it ignored
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(0))
    server = Server(("127.0.0.1", State.args.port), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    ppid = 0 if State.args.no_parent_watch or os.getppid() == 1 else os.getppid()
    threading.Thread(target=watch, args=(ppid,), daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        State.stop.set()
        with State.lock:
            sbs, State.sandboxes = list(State.sandboxes.values()), {}
        for s in sbs:
            s.destroy()
        server.server_close()


if __name__ == "__main__":
    main()
