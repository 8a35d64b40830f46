#!/usr/bin/env python3
"""bench.py - what a sandbox costs: nexus against a bare interpreter, the raw
Docker Engine API and the docker CLI, in time and in memory.

Usage: python3 bench/bench.py [--runs N] [--nexus PATH] [--idle N]
                              [--languages python,javascript,bash]

Run it as root from a build tree (it uses ./nexus and the uninstalled agent,
seccomp profile and runtimes/) or point --nexus at an installed nexus.  It
needs the Docker engine and the runtime images nexus-runtime:python,
:javascript and :bash.  Python standard library only.  About 5 minutes at the
default 30 runs on an otherwise idle two-core machine (8.5 minutes were seen
with the load average at 5); --runs scales it.

For each language, on that language's image, it prints the median and p90
over --runs runs (default 30) of:

  bare            the interpreter with no container: the image's root file
                  system, exported once into a temp dir, and
                  `chroot --userspec=1000:1000 DIR python3 -c 'print(1)'`
                  (node -e 'console.log(1)', bash -c 'echo 1'); the fork/exec
                  of chroot itself is included
  nexus run       `nexus sandbox run SB -l LANG -c CODE`, CLI process included
  raw API exec    the same command as `bare`, as a Docker exec in the same
                  sandbox container: create + start (attached) + inspect,
                  Python http.client over the unix socket
  docker exec     `docker exec -u 1000:1000 CID CMD...` in the same container
  docker run      `docker run --rm` of the hardened config nexus uses (read
                  from the sandbox container's inspect output: CapDrop,
                  SecurityOpt and the seccomp profile via a temp file,
                  ReadonlyRootfs, Tmpfs, Binds, User, network none, limits,
                  ulimits, log config) running the same command
  nexus create    `nexus sandbox create --template LANG` (CLI included)
  raw create      raw API create + start of the same image, `sleep infinity`
                  as 1000:1000 with NetworkDisabled (the baseline of the
                  create target)
  raw create hard raw API create + start with nexus's own container config
                  (taken from inspect: agent as PID 1, every hardening option)
  gvisor run      `nexus sandbox run` in a sandbox made with --isolation
                  gvisor (runs go by exec there)
  gvisor create   `nexus sandbox create --isolation gvisor`
                  (both only when the engine has the runsc runtime)

and each one's ratio to `bare`.  The measurements interleave: every round
takes one sample of every kind for every language, in an order rotated each
round, after one unmeasured warm-up round.  Created containers are removed
right after each sample (not timed).

Memory: the peak RSS (VmHWM) of `nexus-agent run`, sampled from /proc while
a one-second sleep runs in the sandbox; the RSS of `nexus-agent init`; and the
idle host memory per sandbox: for --idle (default 5) idle sandboxes of each
image, the RSS (and PSS) of the container's containerd-shim plus every process
in the container's PID namespace, summed and divided by the count.

Each row that the issue sets a target for says met or missed:
python run <= 1.5 x bare and <= 0.35 x raw API exec; javascript run <= 1.2 x
bare; run <= bare + 5 ms for every language; create <= 1.1 x raw create;
agent peak RSS <= 2 MiB; idle host memory per sandbox <= 8 MiB.

Everything it makes (sandboxes, containers, temp dirs) is removed on exit,
also after an error or ^C.  See bench/README.md for how to read the table.
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
import tarfile
import tempfile
import time

LANGS = {
    # language: (image, nexus code, interpreter argv, code sleeping 1 s)
    "python": ("nexus-runtime:python", "print(1)",
               ["python3", "-c", "print(1)"], "import time; time.sleep(1)"),
    "javascript": ("nexus-runtime:javascript", "console.log(1)",
                   ["node", "-e", "console.log(1)"], "setTimeout(() => {}, 1000)"),
    "bash": ("nexus-runtime:bash", "echo 1",
             ["bash", "-c", "echo 1"], "sleep 1"),
}
SANDBOX_ENV = {
    "HOME": "/home/user",
    "LANG": "C.UTF-8",
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "PYTHONUNBUFFERED": "1",
}
KINDS = ["bare", "nexus run", "nexus run exec", "raw API exec", "docker exec",
         "docker run", "nexus create", "raw create", "raw create hard",
         "gvisor run", "gvisor create"]
MiB = 1024 * 1024


# ---- Docker Engine API ------------------------------------------------------

class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=120):
        super().__init__("docker", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
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


def remove_container(cid):
    try:
        api("DELETE", f"/containers/{cid}?force=true")
    except RuntimeError as e:
        if ": 404 " not in str(e):
            print(f"bench: could not remove container {cid[:12]}: {e}", file=sys.stderr)


def container_of(sandbox_id):
    filt = json.dumps({"label": [f"io.nexus.sandbox-id={sandbox_id}"]})
    from urllib.parse import quote
    found = api("GET", f"/containers/json?all=true&filters={quote(filt)}")
    if len(found) != 1:
        raise RuntimeError(f"sandbox {sandbox_id}: {len(found)} containers")
    return found[0]["Id"]


# ---- bare interpreter: the image's root file system under chroot ----------

def safe_member(member, dest):
    """Whether to extract MEMBER into DEST (checked by hand: Debian 12's
    Python has no tarfile filters).  Device nodes and FIFOs are skipped
    (export_rootfs makes the few an interpreter needs); absolute names, '..'
    and anything that would land outside DEST through a link extracted
    earlier are refused; setuid and setgid bits are dropped."""
    if member.ischr() or member.isblk() or member.isfifo():
        return False
    name = member.name
    if os.path.isabs(name) or ".." in name.split("/"):
        raise RuntimeError(f"export: unsafe member {name!r}")
    if member.islnk() and (os.path.isabs(member.linkname) or
                           ".." in member.linkname.split("/")):
        raise RuntimeError(f"export: unsafe hard link {name!r} -> {member.linkname!r}")
    parent = os.path.realpath(os.path.join(dest, os.path.dirname(name.rstrip("/"))))
    if parent != dest and not parent.startswith(dest + os.sep):
        raise RuntimeError(f"export: {name!r} would land outside the root")
    member.mode &= ~0o6000
    return True


def export_rootfs(image, dest, containers):
    """Export IMAGE's file system into DEST (created) as root."""
    c = api("POST", "/containers/create", {"Image": image, "Cmd": ["true"],
                                           "NetworkDisabled": True})
    containers.append(c["Id"])
    try:
        conn = UnixHTTPConnection(docker_socket(), timeout=300)
        conn.request("GET", f"/v1.41/containers/{c['Id']}/export")
        resp = conn.getresponse()
        if resp.status != 200:
            raise RuntimeError(f"export {image}: {resp.status} {resp.read()[:200]!r}")

        dest = os.path.realpath(dest)
        trusted = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}
        with tarfile.open(fileobj=resp, mode="r|") as tar:
            for member in tar:
                if safe_member(member, dest):
                    tar.extract(member, dest, numeric_owner=True, **trusted)
        conn.close()
    finally:
        remove_container(c["Id"])
        containers.remove(c["Id"])
    devdir = os.path.join(dest, "dev")
    os.makedirs(devdir, exist_ok=True)
    for name, minor in (("null", 3), ("zero", 5), ("random", 8), ("urandom", 9)):
        p = os.path.join(devdir, name)
        if not os.path.exists(p):
            os.mknod(p, 0o666 | 0o020000, os.makedev(1, minor))
            os.chmod(p, 0o666)


# ---- one sample of each kind -------------------------------------------------

def timed(fn):
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def demux_stdout(data):
    """The stdout bytes of a multiplexed (non-tty) attach stream."""
    out, i = b"", 0
    while i + 8 <= len(data):
        size = int.from_bytes(data[i + 4:i + 8], "big")
        if data[i] == 1:
            out += data[i + 8:i + 8 + size]
        i += 8 + size
    return out


def check_out(what, out, want="1\n"):
    if out != want:
        raise RuntimeError(f"{what}: unexpected output {out!r}")


def binds(host_config):
    """(source, target, read-only) of each bind mount of HostConfig, from
    its Mounts (what nexus sets) or Binds.  They are passed on as mounts,
    never as Binds: for a missing source, Binds makes an empty directory in
    its place on the host, a mount fails."""
    out = [(m["Source"], m["Target"], bool(m.get("ReadOnly")))
           for m in host_config.get("Mounts") or [] if m.get("Type") == "bind"]
    for b in host_config.get("Binds") or []:
        src, dst, *mode = b.split(":")
        out.append((src, dst, "ro" in (mode[0].split(",") if mode else [])))
    return out


class Lang:
    """Everything measured for one language."""

    def __init__(self, name, bench):
        self.name = name
        self.image, self.code, self.argv, self.sleep_code = LANGS[name]
        self.b = bench
        self.rootfs = None
        self.sandbox = None      # the sandbox every run goes to
        self.gvisor_sandbox = None   # the same under --isolation gvisor
        self.cid = None          # its container
        self.inspect = None
        self.run_args = None     # docker run flags from inspect
        self.hard_body = None    # raw API create body from inspect

    def setup(self):
        b = self.b
        self.rootfs = tempfile.mkdtemp(prefix=f"rootfs-{self.name}.", dir=b.tmp)
        os.chmod(self.rootfs, 0o755)    # it is / for uid 1000
        export_rootfs(self.image, self.rootfs, b.containers)
        self.sandbox = b.nexus_create(self.name)
        if b.gvisor:
            self.gvisor_sandbox = b.nexus_create(self.name, "gvisor")
        self.cid = container_of(self.sandbox)
        self.inspect = api("GET", f"/containers/{self.cid}/json")
        self.run_args = self.docker_run_flags()
        self.hard_body = self.hard_create_body()

    def docker_run_flags(self):
        c, h = self.inspect["Config"], self.inspect["HostConfig"]
        f = ["--user", c["User"], "--workdir", c["WorkingDir"],
             "--hostname", c["Hostname"], "--network", h["NetworkMode"],
             "--ipc", h["IpcMode"], "--cgroupns", h["CgroupnsMode"],
             "--memory", str(h["Memory"]), "--memory-swap", str(h["MemorySwap"]),
             "--cpus", f"{h['NanoCpus'] / 1e9:g}", "--pids-limit", str(h["PidsLimit"]),
             "--shm-size", str(h["ShmSize"]), "--oom-score-adj", str(h["OomScoreAdj"]),
             "--log-driver", h["LogConfig"]["Type"]]
        for k, v in sorted((h["LogConfig"].get("Config") or {}).items()):
            f += ["--log-opt", f"{k}={v}"]
        for cap in h.get("CapDrop") or []:
            f += ["--cap-drop", cap]
        for cap in h.get("CapAdd") or []:
            f += ["--cap-add", cap]
        for opt in h.get("SecurityOpt") or []:
            if opt.startswith("seccomp="):
                path = os.path.join(self.b.tmp, f"seccomp-{self.name}.json")
                with open(path, "w") as fp:
                    fp.write(opt[len("seccomp="):])
                opt = "seccomp=" + path
            f += ["--security-opt", opt]
        if h.get("ReadonlyRootfs"):
            f.append("--read-only")
        for path, opts in sorted((h.get("Tmpfs") or {}).items()):
            f += ["--tmpfs", f"{path}:{opts}"]
        for src, dst, ro in binds(h):
            f += ["--mount", f"type=bind,source={src},target={dst}" + (",readonly" if ro else "")]
        for u in h.get("Ulimits") or []:
            f += ["--ulimit", f"{u['Name']}={u['Soft']}:{u['Hard']}"]
        for e in c.get("Env") or []:
            f += ["--env", e]
        return f

    def hard_create_body(self):
        c, h = self.inspect["Config"], self.inspect["HostConfig"]
        body = {k: c[k] for k in ("Image", "Env", "Entrypoint", "Cmd", "User",
                                  "WorkingDir", "Hostname", "NetworkDisabled")
                if k in c}
        body["Image"] = self.image
        body["Cmd"] = body.get("Cmd") or []
        body["HostConfig"] = {k: h[k] for k in (
            "NetworkMode", "IpcMode", "CgroupnsMode", "CapDrop", "SecurityOpt",
            "ReadonlyRootfs", "Privileged", "Tmpfs", "ShmSize", "Memory",
            "MemorySwap", "NanoCpus", "PidsLimit", "OomScoreAdj", "Ulimits",
            "LogConfig") if k in h}
        body["HostConfig"]["Mounts"] = [
            {"Type": "bind", "Source": src, "Target": dst, "ReadOnly": ro}
            for src, dst, ro in binds(h)]
        return body

    # Each returns milliseconds.
    def bare(self):
        ms, out = timed(lambda: subprocess.run(
            ["/usr/sbin/chroot", "--userspec=1000:1000", self.rootfs] + self.argv,
            env=SANDBOX_ENV, capture_output=True, text=True, check=True).stdout)
        check_out("bare", out)
        return ms

    def nexus_run(self, transport="socket", sandbox=None):
        ms, out = timed(lambda: self.b.nexus(
            ["sandbox", "run", sandbox or self.sandbox, "-l", self.name, "-c", self.code],
            {"NEXUS_RUN_TRANSPORT": transport}))
        check_out(f"nexus run ({transport})", out)
        return ms

    def raw_exec(self):
        def go():
            e = api("POST", f"/containers/{self.cid}/exec", {
                "AttachStdout": True, "AttachStderr": True, "User": "1000:1000",
                "Cmd": self.argv})
            out = api("POST", f"/exec/{e['Id']}/start", {"Detach": False, "Tty": False})
            return out, api("GET", f"/exec/{e['Id']}/json")["ExitCode"]
        ms, (out, code) = timed(go)
        out = demux_stdout(out)
        if code != 0 or out != b"1\n":
            raise RuntimeError(f"raw exec: exit {code}, output {out!r}")
        return ms

    def docker_exec(self):
        ms, out = timed(lambda: subprocess.run(
            [self.b.docker, "exec", "-u", "1000:1000", self.cid] + self.argv,
            capture_output=True, text=True, check=True).stdout)
        check_out("docker exec", out)
        return ms

    def docker_run(self):
        name = f"nexus-bench-{os.getpid()}-{self.b.seq()}"
        self.b.names.append(name)
        try:
            ms, out = timed(lambda: subprocess.run(
                [self.b.docker, "run", "--rm", "--name", name] + self.run_args +
                ["--entrypoint", self.argv[0], self.image] + self.argv[1:],
                capture_output=True, text=True, check=True).stdout)
        except subprocess.CalledProcessError as e:
            raise RuntimeError(f"docker run: {e.stderr.strip()}") from None
        finally:
            self.b.remove_named(name)
        check_out("docker run", out)
        return ms

    def nexus_create(self, isolation=None):
        ms, sb = timed(lambda: self.b.nexus_create(self.name, isolation))
        self.b.nexus_stop(sb)
        return ms

    def raw_create(self):
        body = {"Image": self.image, "Cmd": ["sleep", "infinity"], "User": "1000:1000",
                "NetworkDisabled": True, "HostConfig": {"NetworkMode": "none"}}
        return self._create_start(body)

    def raw_create_hard(self):
        return self._create_start(self.hard_body)

    def _create_start(self, body):
        cids = self.b.containers

        def go():
            c = api("POST", "/containers/create", body)
            cids.append(c["Id"])
            api("POST", f"/containers/{c['Id']}/start")
            return c["Id"]
        ms, cid = timed(go)
        remove_container(cid)
        cids.remove(cid)
        return ms

    def sample(self, kind):
        return {"bare": self.bare, "nexus run": self.nexus_run,
                "nexus run exec": lambda: self.nexus_run("exec"),
                "raw API exec": self.raw_exec, "docker exec": self.docker_exec,
                "docker run": self.docker_run, "nexus create": self.nexus_create,
                "raw create": self.raw_create,
                "raw create hard": self.raw_create_hard,
                "gvisor run": lambda: self.nexus_run("exec", self.gvisor_sandbox),
                "gvisor create": lambda: self.nexus_create("gvisor")}[kind]()


# ---- memory from /proc -------------------------------------------------------

def proc_status(pid):
    """{field: kB} of /proc/PID/status, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            out = {}
            for line in f:
                k, _, v = line.partition(":")
                if v.strip().endswith("kB"):
                    out[k] = int(v.split()[0])
                elif k in ("PPid", "Pid"):
                    out[k] = int(v)
            return out
    except (FileNotFoundError, ProcessLookupError):
        return None


def proc_pss(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def proc_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except (FileNotFoundError, ProcessLookupError):
        return []


def pids_in_ns_of(pid):
    """Host pids of every process in PID's PID namespace."""
    ns = os.readlink(f"/proc/{pid}/ns/pid")
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                if os.readlink(f"/proc/{p}/ns/pid") == ns:
                    out.append(int(p))
            except OSError:
                pass
    return out


def agent_peak(lang):
    """Max VmHWM (kB) of a run agent seen while a 1 s sleep runs, and
    init's VmRSS (kB).  A socket run's agent is forked by init, so it has
    init's argv; it is the nexus-agent process that is not init."""
    init = api("GET", f"/containers/{lang.cid}/json")["State"]["Pid"]
    proc = subprocess.Popen([lang.b.nexus_path, "sandbox", "run", lang.sandbox, "-l",
                             lang.name, "-c", lang.sleep_code], env=lang.b.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak, seen = 0, set()
    try:
        while proc.poll() is None:
            for p in pids_in_ns_of(init):
                argv = proc_cmdline(p)
                if p != init and argv and argv[0].endswith(b"nexus-agent"):
                    st = proc_status(p)
                    if st:
                        seen.add(p)
                        peak = max(peak, st.get("VmHWM", 0))
            time.sleep(0.02)
    finally:
        proc.wait()
    init_st = proc_status(init) or {}
    return (peak if seen else None), init_st.get("VmRSS"), init_st.get("VmHWM")


def host_memory(cid):
    """(RSS, PSS) in kB of CID's containerd-shim and its processes."""
    init = api("GET", f"/containers/{cid}/json")["State"]["Pid"]
    pids = set(pids_in_ns_of(init))
    shim = (proc_status(init) or {}).get("PPid")
    argv = proc_cmdline(shim) if shim else []
    if argv and b"containerd-shim" in argv[0] and cid.encode() in argv:
        pids.add(shim)
    else:
        print(f"bench: no containerd-shim found for {cid[:12]}", file=sys.stderr)
    rss = sum((proc_status(p) or {}).get("VmRSS", 0) for p in pids)
    pss = sum(proc_pss(p) for p in pids)
    return rss, pss


# ---- the run -----------------------------------------------------------------

class Bench:
    def __init__(self, opts):
        self.opts = opts
        self.nexus_path = opts.nexus
        self.env = dict(os.environ)
        self.tmp = tempfile.mkdtemp(prefix="nexus-bench.")
        os.chmod(self.tmp, 0o755)   # uid 1000 must reach the rootfs dirs
        self.env["NEXUS_DATA_DIR"] = os.path.join(self.tmp, "data")
        top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        if opts.nexus == "./nexus":
            # Copies, so a rebuild in the tree during the run changes nothing.
            bindir = os.path.join(self.tmp, "bin")
            try:
                os.mkdir(bindir)
                self.nexus_path = shutil.copy2("nexus", bindir)
                if "NEXUS_AGENT" not in self.env:
                    self.env["NEXUS_AGENT"] = shutil.copy2("nexus-agent", bindir)
            except BaseException:
                shutil.rmtree(self.tmp, ignore_errors=True)
                raise
            # The build tree's seccomp/: container.json and the .bpf filters.
            self.env.setdefault("NEXUS_SECCOMP_DIR", os.path.abspath("seccomp"))
            self.env.setdefault("NEXUS_RUNTIMES_DIR", os.path.join(top, "runtimes"))
        self.docker = next((p for p in ("/usr/local/bin/docker", "/usr/bin/docker",
                                        shutil.which("docker")) if p and os.access(p, os.X_OK)),
                           None)
        self.gvisor = "runsc" in (api("GET", "/info").get("Runtimes") or {})
        self.sandboxes, self.containers, self.names = [], [], []
        self._seq = 0

    def seq(self):
        self._seq += 1
        return self._seq

    def nexus(self, args, env=None):
        try:
            return subprocess.run([self.nexus_path] + args, env=dict(self.env, **(env or {})),
                                  check=True, capture_output=True, text=True).stdout
        except subprocess.CalledProcessError as e:
            raise RuntimeError(f"nexus {' '.join(args[:2])}: {e.stderr.strip()}") from None

    def nexus_create(self, template, isolation=None):
        out = self.nexus(["sandbox", "create", "bench", "--template", template,
                          "--ttl", "120", "--json"] +
                         (["--isolation", isolation] if isolation else []))
        sb = json.loads(out)["sandbox_id"]
        self.sandboxes.append(sb)
        return sb

    def nexus_stop(self, sb):
        subprocess.run([self.nexus_path, "sandbox", "stop", sb], env=self.env,
                       capture_output=True)
        self.sandboxes.remove(sb)

    def remove_named(self, name):
        try:
            api("DELETE", f"/containers/{name}?force=true")
        except RuntimeError as e:
            if ": 404 " not in str(e):
                print(f"bench: could not remove {name}: {e}", file=sys.stderr)
        self.names.remove(name)

    def cleanup(self):
        for sb in list(self.sandboxes):
            self.nexus_stop(sb)
        # A sandbox whose stop failed still carries our data dir's label.
        from urllib.parse import quote
        filt = json.dumps({"label": [f"io.nexus.data-dir={self.env['NEXUS_DATA_DIR']}"]})
        try:
            left = api("GET", f"/containers/json?all=true&filters={quote(filt)}")
        except RuntimeError:
            left = []
        for c in left:
            remove_container(c["Id"])
        for cid in list(self.containers):
            remove_container(cid)
        for name in list(self.names):
            self.remove_named(name)
        shutil.rmtree(self.tmp, ignore_errors=True)


def percentile(v, pct):
    """The nearest-rank percentile of v (pct in 1..100)."""
    s = sorted(v)
    return s[max(0, -(-len(s) * pct // 100) - 1)]


def verdict(ok):
    return "met" if ok else "MISSED"


def report(opts, langs, samples, mem, idle, docker):
    n = opts.runs
    print(f"nexus bench: medians of {n} interleaved runs, times in ms "
          f"(ratio = median / bare median)")
    labels = {
        "bare": "bare chroot {cmd}",
        "nexus run": "nexus sandbox run (socket)",
        "nexus run exec": "nexus sandbox run (exec)",
        "raw API exec": "raw API exec",
        "docker exec": "docker exec",
        "docker run": "docker run --rm (hardened)",
        "nexus create": "nexus sandbox create",
        "raw create": "raw API create+start",
        "raw create hard": "raw create+start (nexus cfg)",
        "gvisor run": "nexus sandbox run (gVisor)",
        "gvisor create": "nexus sandbox create (gVisor)",
    }
    all_ok = True
    for lang in langs:
        s = {k: v for k, v in samples[lang.name].items()}
        med = {k: statistics.median(v) for k, v in s.items() if v}
        bare = med["bare"]
        print()
        print(f"{lang.name} ({lang.image})")
        print(f"  {'':<32} {'median':>8} {'p90':>8} {'x bare':>7}   target")
        for k in KINDS:
            label = labels[k].format(cmd=lang.argv[0])
            if k not in med:
                print(f"  {label:<32} {'n/a':>8}")
                continue
            line = f"  {label:<32} {med[k]:>8.1f} {percentile(s[k], 90):>8.1f} {med[k] / bare:>7.2f}"
            notes = []
            if k == "nexus run":
                add = med[k] - bare
                notes.append(f"<= bare + 5 ms: {verdict(add <= 5)} (+{add:.1f} ms)")
                all_ok &= add <= 5
                if lang.name == "python":
                    r = med[k] / bare
                    notes.append(f"<= 1.5 x bare: {verdict(r <= 1.5)}")
                    all_ok &= r <= 1.5
                    if "raw API exec" in med:
                        r = med[k] / med["raw API exec"]
                        notes.append(f"<= 0.35 x raw exec: {verdict(r <= 0.35)} ({r:.2f} x)")
                        all_ok &= r <= 0.35
                if lang.name == "javascript":
                    r = med[k] / bare
                    notes.append(f"<= 1.2 x bare: {verdict(r <= 1.2)}")
                    all_ok &= r <= 1.2
            if k == "nexus create" and "raw create" in med:
                r = med[k] / med["raw create"]
                notes.append(f"<= 1.1 x raw create: {verdict(r <= 1.1)} ({r:.2f} x)")
                all_ok &= r <= 1.1
            print(line + ("   " + "; ".join(notes) if notes else ""))
    if docker is None:
        print("\n(no docker CLI found: docker exec and docker run are n/a)")
    if not any("gvisor run" in samples[lang.name] and samples[lang.name]["gvisor run"]
               for lang in langs):
        print("\n(no runsc runtime in the engine: the gVisor rows are n/a; scripts/gvisor.sh)")

    print()
    print(f"memory (KiB; 1 MiB = 1024 KiB)")
    print(f"  {'':<44} {'python':>10} {'javascript':>10} {'bash':>10}   target")

    def row(label, vals, target=None, limit=None):
        nonlocal all_ok
        cells = []
        ok = True
        for name in ("python", "javascript", "bash"):
            v = vals.get(name)
            cells.append(f"{v:>10.0f}" if isinstance(v, (int, float)) else f"{'n/a':>10}")
            if limit is not None and isinstance(v, (int, float)):
                ok &= v <= limit
        t = f"   {target}: {verdict(ok)}" if target else ""
        if limit is not None:
            all_ok &= ok
        print(f"  {label:<44} {' '.join(cells)}{t}")

    row("agent run peak RSS (VmHWM)", {k: v[0] for k, v in mem.items()},
        "<= 2 MiB", 2048)
    row("agent init RSS (VmRSS)", {k: v[1] for k, v in mem.items()})
    row("agent init peak RSS (VmHWM)", {k: v[2] for k, v in mem.items()})
    row(f"idle host RSS per sandbox (shim+procs, N={opts.idle})",
        {k: v[0] for k, v in idle.items()}, "<= 8 MiB", 8192)
    row(f"idle host PSS per sandbox (shim+procs, N={opts.idle})",
        {k: v[1] for k, v in idle.items()})
    row("  of which containerd-shim RSS", {k: v[2] for k, v in idle.items()})
    print()
    print("all targets met" if all_ok else "some targets missed")


def main():
    ap = argparse.ArgumentParser(description="nexus benchmark (see the module docstring)")
    ap.add_argument("--runs", type=int, default=30, help="measured rounds (default 30)")
    ap.add_argument("--nexus", default="./nexus", help="nexus binary (default ./nexus)")
    ap.add_argument("--idle", type=int, default=5,
                    help="idle sandboxes per image for the memory row (default 5)")
    ap.add_argument("--languages", default="python,javascript,bash")
    opts = ap.parse_args()
    if os.geteuid() != 0:
        print("bench: must run as root (chroot, /proc of container processes)", file=sys.stderr)
        return 2
    if opts.runs < 1 or opts.idle < 1:
        ap.error("--runs and --idle must be at least 1")
    names = opts.languages.split(",")
    for n in names:
        if n not in LANGS:
            ap.error(f"unknown language {n}")

    b = Bench(opts)
    langs = [Lang(n, b) for n in names]
    kinds = [k for k in KINDS if (b.docker or k not in ("docker exec", "docker run")) and
             (b.gvisor or not k.startswith("gvisor"))]
    samples = {l.name: {k: [] for k in KINDS} for l in langs}
    mem, idle = {}, {}
    t0 = time.monotonic()
    try:
        for lang in langs:
            print(f"bench: exporting {lang.image} and creating a sandbox ...", file=sys.stderr)
            lang.setup()
        for rnd in range(opts.runs + 1):        # round 0 warms up
            for i, lang in enumerate(langs):
                r = (rnd + i) % len(kinds)
                for k in kinds[r:] + kinds[:r]:
                    ms = lang.sample(k)
                    if rnd:
                        samples[lang.name][k].append(ms)
            if rnd % 5 == 0:
                print(f"bench: round {rnd}/{opts.runs}, {time.monotonic() - t0:.0f} s",
                      file=sys.stderr)
        for lang in langs:
            mem[lang.name] = agent_peak(lang)
        for lang in langs:
            sbs = [b.nexus_create(lang.name) for _ in range(opts.idle)]
            time.sleep(1)
            cids = [container_of(sb) for sb in sbs]
            per = [host_memory(c) for c in cids]
            shims = []
            for c in cids:
                init = api("GET", f"/containers/{c}/json")["State"]["Pid"]
                shims.append((proc_status((proc_status(init) or {}).get("PPid")) or {})
                             .get("VmRSS", 0))
            idle[lang.name] = (sum(p[0] for p in per) / len(per),
                               sum(p[1] for p in per) / len(per),
                               sum(shims) / len(shims))
            for sb in sbs:
                b.nexus_stop(sb)
    finally:
        b.cleanup()
    print(f"bench: done in {time.monotonic() - t0:.0f} s", file=sys.stderr)
    report(opts, langs, samples, mem, idle, b.docker)
    return 0


if __name__ == "__main__":
    sys.exit(main())
