#!/usr/bin/env python3
"""load.py - `nexus serve` under concurrent load, against the local CLI.

Usage: python3 bench/load.py [--runs N] [--levels 1,8,32] [--nexus PATH]

Run it as root from a build tree (it uses ./nexus and the uninstalled agent,
seccomp profile and runtimes/) or point --nexus at an installed nexus.  It
needs the Docker engine and the runtime image nexus-runtime:python.  Python
standard library only.

It starts its own `nexus serve` on a free loopback port with a private
NEXUS_DATA_DIR, makes an API key (`nexus admin key create --user bench`) and
creates, through the API, one python sandbox per client of the largest
level.  Then for each level (number of concurrent clients, default 1, 8 and
32), one thread per client, each with its own sandbox:

  server  back-to-back POST /v1/sandboxes/{id}/run of
          {"language": "python", "code": "print(1)"}, each client over its
          own keep-alive connection (http.client)
  CLI     back-to-back `nexus sandbox run SB -c 'print(1)'` subprocesses
          against the same data dir, locally (NEXUS_URL unset), as the same
          user (NEXUS_USER=bench)

Every client first does WARMUP unmeasured runs; then --runs runs (default
200) are shared out between the clients of the level, each taking the next
one as soon as its previous one is done.  A run is an error if it does not
answer 200 (exit 0 for the CLI) with stdout exactly "1\\n", or if it raises
(a dropped connection, a timeout); errors are counted, never raised.

The table: runs/s (successful runs over the wall time of the measured
part), p50 and p99 of the successful runs' latencies in ms, errors.  The
targets, met or MISSED: no error at 32 clients (server); the server adds at
most 3 ms p50 to a run (server p50 - CLI p50 at 1 client).

At the end it stops every sandbox through the API and the server with
SIGTERM, and checks that the server exits 0.  Everything it makes (sandboxes,
the server, the temp dir with the data dir and the key) is removed on exit,
also after an error or ^C.  See bench/README.md.
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import quote

# The Engine API client and the table helpers of the other benchmark.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import api, percentile, remove_container, verdict  # noqa: E402

CODE = "print(1)"
WANT = "1\n"
WARMUP = 2              # unmeasured runs per client per level and path
RUN_TIMEOUT = 120       # s, for one run, queueing included
USER = "bench"


def log(msg):
    print(f"load: {msg}", file=sys.stderr, flush=True)


# ---- the server's API -------------------------------------------------------

class Connection(http.client.HTTPConnection):
    """A keep-alive connection to the server that counts its (re)connects,
    to show whether the connections were really kept alive."""

    def __init__(self, port, timeout=RUN_TIMEOUT):
        super().__init__("127.0.0.1", port, timeout=timeout)
        self.connects = 0

    def connect(self):
        super().connect()
        self.connects += 1


def call(conn, key, method, path, body=None):
    """(status, decoded JSON body or None) of one request on CONN."""
    headers = {"Authorization": f"Bearer {key}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    try:
        return resp.status, json.loads(data) if data else None
    except ValueError:
        return resp.status, None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- one run of each path -----------------------------------------------------

def server_run(conn, key, sb):
    """None if the run went right, else what went wrong."""
    try:
        status, body = call(conn, key, "POST", f"/v1/sandboxes/{quote(sb, safe='')}/run",
                            {"language": "python", "code": CODE})
    except (OSError, http.client.HTTPException) as e:
        conn.close()        # the next request reconnects
        return f"{type(e).__name__}: {e}"
    if status != 200:
        err = (body or {}).get("error", {}) if isinstance(body, dict) else {}
        return f"HTTP {status} {err.get('kind', '')}: {err.get('message', '')}"
    out = body.get("stdout") if isinstance(body, dict) else None
    return None if out == WANT else f"stdout {out!r}"


def cli_run(bench, sb):
    try:
        p = subprocess.run([bench.nexus_path, "sandbox", "run", sb, "-c", CODE],
                           env=bench.env, capture_output=True, text=True,
                           timeout=RUN_TIMEOUT)
    except (OSError, subprocess.SubprocessError) as e:
        return f"{type(e).__name__}: {e}"
    if p.returncode != 0:
        return f"exit {p.returncode}: {p.stderr.strip()[:200]}"
    return None if p.stdout == WANT else f"stdout {p.stdout!r}"


# ---- one level, one path ------------------------------------------------------

class Result:
    def __init__(self, clients, path):
        self.clients, self.path = clients, path
        self.lat = []           # ms of the successful measured runs
        self.errors = 0
        self.messages = []      # the first few errors, for stderr
        self.warmup_errors = 0
        self.wall = 0.0         # s, the measured part
        self.connects = 0


def measure(bench, path, sandboxes, runs):
    """RESULT of RUNS runs shared out between one thread per sandbox."""
    n = len(sandboxes)
    res = Result(n, path)
    lock = threading.Lock()
    left = [runs]
    ready = threading.Barrier(n + 1)
    done_at = [0.0]

    def one(conn, sb):
        start = time.perf_counter()
        err = server_run(conn, bench.key, sb) if conn else cli_run(bench, sb)
        return (time.perf_counter() - start) * 1000, err

    def client(sb):
        conn = Connection(bench.port) if path == "server" else None
        try:
            for _ in range(WARMUP):
                if bench.stop.is_set():
                    return
                _, err = one(conn, sb)
                if err:
                    with lock:
                        res.warmup_errors += 1
            try:
                ready.wait()
            except threading.BrokenBarrierError:
                return
            while not bench.stop.is_set():
                with lock:
                    if left[0] == 0:
                        break
                    left[0] -= 1
                ms, err = one(conn, sb)
                with lock:
                    done_at[0] = time.perf_counter()
                    if err:
                        res.errors += 1
                        if len(res.messages) < 5:
                            res.messages.append(err)
                    else:
                        res.lat.append(ms)
        except Exception as e:      # a bug here must not hang the barrier
            ready.abort()
            with lock:
                res.errors += 1
                res.messages.append(f"client: {type(e).__name__}: {e}")
        finally:
            if conn:
                with lock:
                    res.connects += conn.connects
                conn.close()

    threads = [threading.Thread(target=client, args=(sb,), daemon=True) for sb in sandboxes]
    bench.threads, bench.barrier = threads, ready
    for t in threads:
        t.start()
    try:
        ready.wait()
        start = time.perf_counter()
    except threading.BrokenBarrierError:
        start = None
    for t in threads:
        t.join()
    if start is not None:
        res.wall = max(done_at[0] - start, 1e-9)
    return res


# ---- the run -----------------------------------------------------------------

class Bench:
    def __init__(self, opts):
        self.nexus_path = opts.nexus
        env = dict(os.environ)
        for k in ("NEXUS_URL", "NEXUS_API_KEY", "NEXUS_TENANT"):
            env.pop(k, None)
        # The CLI path acts as the key's user, so it sees its sandboxes.
        env["NEXUS_USER"] = USER
        self.tmp = tempfile.mkdtemp(prefix="nexus-load.")
        env["NEXUS_DATA_DIR"] = os.path.join(self.tmp, "data")
        self.env = env
        top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        if opts.nexus == "./nexus":
            # Copies, so a rebuild in the tree during the run changes nothing.
            bindir = os.path.join(self.tmp, "bin")
            try:
                os.mkdir(bindir)
                self.nexus_path = shutil.copy2("nexus", bindir)
                if "NEXUS_AGENT" not in env:
                    env["NEXUS_AGENT"] = shutil.copy2("nexus-agent", bindir)
                if "NEXUS_SERVER" not in env:
                    env["NEXUS_SERVER"] = shutil.copy2("nexus-server", bindir)
            except BaseException:
                shutil.rmtree(self.tmp, ignore_errors=True)
                raise
            # The build tree's seccomp/: container.json and the .bpf filters.
            env.setdefault("NEXUS_SECCOMP_DIR", os.path.abspath("seccomp"))
            env.setdefault("NEXUS_RUNTIMES_DIR", os.path.join(top, "runtimes"))
        self.server = None
        self.server_log = os.path.join(self.tmp, "serve.log")
        self.port = None
        self.key = None
        self.sandboxes = []
        self.stop = threading.Event()
        self.threads = []
        self.barrier = None

    def nexus(self, args):
        try:
            return subprocess.run([self.nexus_path] + args, env=self.env, check=True,
                                  capture_output=True, text=True, timeout=120).stdout
        except subprocess.CalledProcessError as e:
            raise RuntimeError(f"nexus {' '.join(args[:3])}: {e.stderr.strip()}") from None

    def start_server(self):
        self.key = self.nexus(["admin", "key", "create", "--user", USER]).strip()
        if not self.key.startswith("nxk_"):
            raise RuntimeError(f"admin key create printed {self.key[:20]!r}...")
        self.port = free_port()
        with open(self.server_log, "w") as logf:
            # Its own session: a ^C must not stop it before the cleanup has
            # stopped the sandboxes through it.
            self.server = subprocess.Popen(
                [self.nexus_path, "serve", "--port", str(self.port)], env=self.env,
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + 15
        while True:
            if self.server.poll() is not None:
                raise RuntimeError(f"nexus serve exited {self.server.returncode}: "
                                   f"{self.log_tail()}")
            conn = Connection(self.port, timeout=2)
            try:
                status, body = call(conn, self.key, "GET", "/v1/health")
                if status == 200:
                    return body.get("version", "?")
            except OSError:
                pass
            finally:
                conn.close()
            if time.monotonic() > deadline:
                raise RuntimeError(f"nexus serve not answering on port {self.port}")
            time.sleep(0.1)

    def log_tail(self):
        try:
            with open(self.server_log) as f:
                return " | ".join(f.read().strip().splitlines()[-5:])
        except OSError:
            return ""

    def create(self, i):
        conn = Connection(self.port)
        try:
            status, body = call(conn, self.key, "POST", "/v1/sandboxes",
                                {"name": f"load-{i}", "template_id": "python",
                                 "ttl_minutes": 120})
        finally:
            conn.close()
        if status != 201:
            raise RuntimeError(f"POST /v1/sandboxes: {status} {body}")
        self.sandboxes.append(body["sandbox_id"])

    def stop_sandboxes(self):
        """Stop each sandbox through the API, else with the local CLI.
        The number that could not be stopped either way."""
        failed = 0
        for sb in list(self.sandboxes):
            ok = False
            if self.server and self.server.poll() is None:
                conn = Connection(self.port, timeout=60)
                try:
                    status, _ = call(conn, self.key, "POST",
                                     f"/v1/sandboxes/{quote(sb, safe='')}/stop")
                    ok = status in (200, 404)
                except OSError:
                    pass
                finally:
                    conn.close()
            if not ok:
                ok = subprocess.run([self.nexus_path, "sandbox", "stop", sb], env=self.env,
                                    capture_output=True).returncode == 0
            if not ok:
                failed += 1
            self.sandboxes.remove(sb)
        return failed

    def stop_server(self):
        """The server's exit status after SIGTERM (None: killed after 60 s)."""
        if not self.server or self.server.poll() is not None:
            return self.server.returncode if self.server else 0
        self.server.send_signal(signal.SIGTERM)
        try:
            return self.server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait()
            return None

    def cleanup(self):
        self.stop.set()
        if self.barrier:
            self.barrier.abort()
        for t in self.threads:
            t.join(timeout=RUN_TIMEOUT)
        self.stop_sandboxes()
        self.stop_server()
        # A sandbox whose stop failed still carries our data dir's label.
        filt = json.dumps({"label": [f"io.nexus.data-dir={self.env['NEXUS_DATA_DIR']}"]})
        try:
            for c in api("GET", f"/containers/json?all=true&filters={quote(filt)}") or []:
                remove_container(c["Id"])
        except (OSError, RuntimeError) as e:
            log(f"could not remove leftover containers: {e}")
        shutil.rmtree(self.tmp, ignore_errors=True)


def report(opts, version, results, stopped_ok, server_exit):
    print(f"nexus load ({version}): {opts.runs} runs per level and path after "
          f"{WARMUP} warm-up runs per client; python print(1); times in ms")
    print()
    print(f"{'clients':>7}  {'path':<6} {'runs/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for r in results:
        if r.lat:
            rate = len(r.lat) / r.wall
            cells = f"{rate:>8.1f} {statistics.median(r.lat):>8.1f} {percentile(r.lat, 99):>8.1f}"
        else:
            cells = f"{'n/a':>8} {'n/a':>8} {'n/a':>8}"
        print(f"{r.clients:>7}  {r.path:<6} {cells} {r.errors:>6}")
    print()
    by = {(r.clients, r.path): r for r in results}
    all_ok = True

    s32 = by.get((32, "server"))
    if s32 is None:
        print("no error at 32 clients (server): n/a (32 not in --levels)")
    else:
        ok = s32.errors == 0 and s32.warmup_errors == 0 and len(s32.lat) == opts.runs
        all_ok &= ok
        print(f"no error at 32 clients (server): {verdict(ok)} "
              f"({s32.errors} of {opts.runs})")

    s1, c1 = by.get((1, "server")), by.get((1, "CLI"))
    if s1 is None or c1 is None:
        print("server adds <= 3 ms p50 (1 client): n/a (1 not in --levels)")
    elif not s1.lat or not c1.lat:
        all_ok = False
        print("server adds <= 3 ms p50 (1 client): MISSED (no successful run)")
    else:
        add = statistics.median(s1.lat) - statistics.median(c1.lat)
        all_ok &= add <= 3
        print(f"server adds <= 3 ms p50 (1 client): {verdict(add <= 3)} ({add:+.1f} ms)")

    ok = stopped_ok and server_exit == 0
    all_ok &= ok
    print(f"sandboxes stopped, server exit on SIGTERM: "
          f"{'0' if server_exit == 0 else server_exit if server_exit is not None else 'killed'}"
          f"{'' if stopped_ok else ' (some sandboxes did not stop)'}: {verdict(ok)}")
    print()
    print("all targets met" if all_ok else "some targets missed")


def main():
    ap = argparse.ArgumentParser(description="nexus serve under load (see the module docstring)")
    ap.add_argument("--runs", type=int, default=200,
                    help="measured runs per level and path (default 200)")
    ap.add_argument("--levels", default="1,8,32",
                    help="concurrent clients, comma-separated (default 1,8,32)")
    ap.add_argument("--nexus", default="./nexus", help="nexus binary (default ./nexus)")
    opts = ap.parse_args()
    if os.geteuid() != 0:
        print("load: must run as root (the run socket of a sandbox's agent)", file=sys.stderr)
        return 2
    try:
        levels = [int(x) for x in opts.levels.split(",")]
    except ValueError:
        ap.error("--levels: comma-separated numbers")
    if opts.runs < 1 or not levels or min(levels) < 1:
        ap.error("--runs and every level must be at least 1")

    b = Bench(opts)
    results = []
    t0 = time.monotonic()
    try:
        version = b.start_server()
        log(f"nexus serve {version} on 127.0.0.1:{b.port}; "
            f"creating {max(levels)} sandboxes ...")
        for i in range(max(levels)):
            b.create(i)
        for n in levels:
            for path in ("server", "CLI"):
                r = measure(b, path, b.sandboxes[:n], opts.runs)
                results.append(r)
                extra = f", {r.connects} connections" if path == "server" else ""
                log(f"{n} clients, {path}: {len(r.lat)} ok, {r.errors} errors, "
                    f"{r.warmup_errors} warm-up errors{extra}, "
                    f"{time.monotonic() - t0:.0f} s")
                for m in r.messages:
                    log(f"  error: {m}")
        failed = b.stop_sandboxes()
        server_exit = b.stop_server()
        if server_exit != 0:
            log(f"nexus serve exited {server_exit}: {b.log_tail()}")
    finally:
        b.cleanup()
    log(f"done in {time.monotonic() - t0:.0f} s")
    report(opts, version, results, failed == 0, server_exit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
