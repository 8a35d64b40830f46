#!/usr/bin/env python3
"""bench.py - what a sandbox costs: nexus against the raw Docker Engine API.

Medians over N runs (default 30), side by side in one run, on the same
image (nexus-runtime:default):

  create   nexus sandbox create (CLI process included)
           vs raw API create + start of a container of the same image with
           no network (NetworkDisabled, as nexus: without it the engine
           still builds a network namespace, which doubles the time)
  run      nexus sandbox run -c "print(1)" (CLI process included)
           vs raw API exec of python3 -c "print(1)" (create + start + wait)

Usage: bench/bench.py [--runs N] [--nexus PATH]
Run it from a build tree (uses ./nexus and the uninstalled agent) or point
--nexus at an installed nexus.  Needs the Docker engine and the image.
"""
import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

IMAGE = "nexus-runtime:default"


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("docker", timeout=60)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(self.path)


def docker_socket():
    host = os.environ.get("DOCKER_HOST", "")
    return host[len("unix://"):] if host.startswith("unix://") else "/var/run/docker.sock"


def api(method, path, body=None):
    conn = UnixHTTPConnection(docker_socket())
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, "/v1.41" + path,
                 body=json.dumps(body) if body is not None else None, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    if resp.status >= 400:
        raise RuntimeError(f"{method} {path}: {resp.status} {data[:200]!r}")
    return json.loads(data) if data and resp.getheader("Content-Type", "").startswith("application/json") else data


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def raw_create_start():
    c = api("POST", "/containers/create", {
        "Image": IMAGE, "Cmd": ["sleep", "infinity"], "User": "1000:1000",
        "NetworkDisabled": True, "HostConfig": {"NetworkMode": "none"}})
    api("POST", f"/containers/{c['Id']}/start")
    return c["Id"]


def raw_exec(cid):
    e = api("POST", f"/containers/{cid}/exec", {
        "AttachStdout": True, "AttachStderr": True,
        "Cmd": ["python3", "-c", "print(1)"]})
    api("POST", f"/exec/{e['Id']}/start", {"Detach": False, "Tty": False})
    return api("GET", f"/exec/{e['Id']}/json")["ExitCode"]


def nexus(args, env):
    out = subprocess.run(args, env=env, check=True, capture_output=True, text=True)
    return out.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--nexus", default="./nexus")
    opts = ap.parse_args()
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    data_dir = tempfile.mkdtemp(prefix="nexus-bench.")
    env["NEXUS_DATA_DIR"] = data_dir
    if opts.nexus == "./nexus":
        env.setdefault("NEXUS_AGENT", os.path.abspath("nexus-agent"))
        env.setdefault("NEXUS_SECCOMP_DIR", os.path.join(top, "seccomp-profiles"))
        env.setdefault("NEXUS_RUNTIMES_DIR", os.path.join(top, "runtimes"))

    results = {k: [] for k in ("nexus create", "raw create+start", "nexus run", "raw exec")}
    sandboxes, containers = [], []
    try:
        for _ in range(opts.runs):
            ms, out = timed(lambda: nexus([opts.nexus, "sandbox", "create", "bench", "--json"], env))
            results["nexus create"].append(ms)
            sandboxes.append(json.loads(out)["sandbox_id"])
            ms, cid = timed(raw_create_start)
            results["raw create+start"].append(ms)
            containers.append(cid)
        sb, cid = sandboxes[0], containers[0]
        for _ in range(opts.runs):
            ms, out = timed(lambda: nexus([opts.nexus, "sandbox", "run", sb, "-c", "print(1)"], env))
            assert out == "1\n", out
            results["nexus run"].append(ms)
            ms, code = timed(lambda: raw_exec(cid))
            assert code == 0
            results["raw exec"].append(ms)
    finally:
        for sb in sandboxes:
            subprocess.run([opts.nexus, "sandbox", "stop", sb], env=env, capture_output=True)
        for cid in containers:
            api("DELETE", f"/containers/{cid}?force=true")
        shutil.rmtree(data_dir, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"{'operation':<20} {'median ms':>10} {'p90 ms':>8}   (n={opts.runs}, image {IMAGE})")
    for k, v in results.items():
        p90 = sorted(v)[int(len(v) * 0.9) - 1]
        print(f"{k:<20} {med[k]:>10.1f} {p90:>8.1f}")
    print(f"{'create ratio':<20} {med['nexus create'] / med['raw create+start']:>10.2f}   nexus / raw")
    print(f"{'run ratio':<20} {med['nexus run'] / med['raw exec']:>10.2f}   nexus / raw")
    return 0


if __name__ == "__main__":
    sys.exit(main())
