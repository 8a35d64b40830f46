"""The Python client against a real nexus: the local CLI on the Docker
engine of this machine, and, when NEXUS_TEST_URL and NEXUS_TEST_KEY are
set, a `nexus serve` server.  Both modes run the same checks
(ClientChecks); every sandbox a test makes is stopped when it ends,
whatever happened."""

import logging
import os
import re
import shutil
import tempfile
import unittest
import uuid
from typing import Any, Callable
from unittest import mock

import support
import nexus
from nexus import (AuthError, NexusError, NexusUnreachableError,
                   SandboxNotFoundError, SandboxTimeoutError)

# The shapes of the spec (shared/spec/sandbox-cli.md, "Returns").
RECORD_KEYS = {
    "sandbox_id", "name", "user_id", "agent_id", "tenant_id", "provider",
    "template_id", "status", "created_at", "last_active_at", "paused_at",
    "stopped_at", "ttl_minutes", "expires_at", "uptime_seconds",
}
LIST_ENTRY_KEYS = {
    "sandbox_id", "name", "status", "created_at", "expires_at",
    "ttl_minutes", "uptime_seconds",
}
VERIFY_KEYS = {"verified", "provider_status"}
RUN_KEYS = {"stdout", "stderr", "exit_code", "execution_time"}
PAUSE_KEYS = {"sandbox_id", "name", "status", "paused_at", "expires_at"}
STOP_KEYS = {"sandbox_id", "name", "status", "stopped_at", "expires_at"}
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
SANDBOX_ID = re.compile(r"^[a-z0-9]{21}$")

# Bytes a shell or a quoting layer would change.  No ''' (it ends the
# Python literal below) and no backslash before a quote.
PAYLOAD = ('He said "hi"; she said \'bye\' and \'\'; $(echo SUBST) '
           '`echo TICK` ${HOME} $HOME \\n \\\\ \\x41 tab:\t; | & > < * ? ~ ! # '
           '%s {0}\nsecond line é ñ 日本語 🙂\n-- --json -c -\n\nend')


def unique(prefix: str) -> str:
    """A name no earlier run has used."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class Tracking:
    """A client that stops, at the test's cleanup, every sandbox created
    through it, and keeps their ids in ``created``; otherwise the client
    itself."""

    def __init__(self, client: nexus.Client,
                 add_cleanup: Callable[..., None]) -> None:
        self._client = client
        self._add_cleanup = add_cleanup
        self.created: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def sandbox_create(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        record = self._client.sandbox_create(*args, **kwargs)
        self.created.append(record["sandbox_id"])
        self._add_cleanup(self._client.sandbox_stop, record["sandbox_id"])
        return record


class ClientChecks:
    """The checks of both modes; a TestCase mixes this in and gives
    make_client() and timeout_keeps_output."""

    # Whether a timed-out run's error carries the output produced so far.
    timeout_keeps_output: bool

    def make_client(self) -> nexus.Client:
        raise NotImplementedError

    def setUp(self) -> None:
        self.nx = Tracking(self.make_client(), self.addCleanup)

    # ---- shape assertions --------------------------------------------

    def assertTime(self, value: Any, nullable: bool = False) -> None:
        if nullable and value is None:
            return
        self.assertIsInstance(value, str)
        self.assertRegex(value, TIME)

    def assertNumber(self, value: Any) -> None:
        self.assertIsInstance(value, (int, float))
        self.assertNotIsInstance(value, bool)
        self.assertGreaterEqual(value, 0)

    def assertRecord(self, record: dict[str, Any], status: str,
                     verified: bool = False) -> None:
        """A record of create/status, as the spec shows it."""
        self.assertEqual(set(record),
                         RECORD_KEYS | (VERIFY_KEYS if verified else set()))
        self.assertRegex(record["sandbox_id"], SANDBOX_ID)
        for key in ("name", "user_id", "tenant_id", "provider"):
            self.assertIsInstance(record[key], str)
        for key in ("agent_id", "template_id"):
            self.assertIsInstance(record[key], (str, type(None)))
        self.assertEqual(record["status"], status)
        self.assertTime(record["created_at"])
        self.assertTime(record["last_active_at"])
        self.assertTime(record["paused_at"], nullable=status != "paused")
        self.assertTime(record["stopped_at"], nullable=status != "stopped")
        self.assertIsInstance(record["ttl_minutes"], int)
        self.assertTime(record["expires_at"], nullable=status != "active")
        self.assertNumber(record["uptime_seconds"])
        if verified:
            self.assertIs(record["verified"], True)
            self.assertEqual(record["provider_status"], status)

    def assertRun(self, result: dict[str, Any], stdout: str,
                  exit_code: int = 0) -> None:
        self.assertEqual(set(result), RUN_KEYS)
        self.assertEqual(result["stdout"], stdout)
        self.assertIsInstance(result["stderr"], str)
        self.assertEqual(result["exit_code"], exit_code)
        self.assertNumber(result["execution_time"])

    def assertError(self, error: NexusError, kind: str) -> None:
        self.assertEqual(error.kind, kind)
        self.assertEqual(str(error), error.message)
        self.assertNotIn("\n", error.message)
        self.assertFalse(error.message.startswith("Error:"))

    def listed(self, **kwargs: Any) -> dict[str, dict[str, Any]]:
        """sandbox_list's entries by sandbox id, after checking its shape."""
        answer = self.nx.sandbox_list(**kwargs)
        self.assertEqual(set(answer), {"sandboxes"})
        self.assertIsInstance(answer["sandboxes"], list)
        return {entry["sandbox_id"]: entry for entry in answer["sandboxes"]}

    # ---- create ----------------------------------------------------------

    def test_create_returns_record(self) -> None:
        name = unique("my-sandbox")
        record = self.nx.sandbox_create(name=name, ttl_minutes=10)
        self.assertRecord(record, "active")
        self.assertEqual(record["name"], name)
        self.assertEqual(record["ttl_minutes"], 10)
        self.assertIsNone(record["agent_id"])
        self.assertIsNone(record["template_id"])
        self.assertIsNone(record["paused_at"])
        self.assertIsNone(record["stopped_at"])

    def test_create_options(self) -> None:
        agent = unique("agent")
        record = self.nx.sandbox_create(unique("opts"), ttl_minutes=30,
                                        template_id="python", agent_id=agent)
        self.assertRecord(record, "active")
        self.assertEqual(record["ttl_minutes"], 30)
        self.assertEqual(record["template_id"], "python")
        self.assertEqual(record["agent_id"], agent)

    def test_create_name_arrives_unchanged(self) -> None:
        name = unique("-n --json $(id) `id` 'q' \"dq\" a/b?c#d%20 é 日本")
        record = self.nx.sandbox_create(name)
        self.assertEqual(record["name"], name)
        by_name = self.nx.sandbox_status(name)
        self.assertEqual(by_name["sandbox_id"], record["sandbox_id"])
        self.assertEqual(by_name["name"], name)

    def test_create_bad_isolation_is_usage_error(self) -> None:
        with self.assertRaises(NexusError) as caught:
            self.nx.sandbox_create(unique("bad-isolation"), isolation="kvm")
        self.assertError(caught.exception, "usage")
        self.assertIn("use runc or gvisor", str(caught.exception))

    def test_create_bad_ttl_is_usage_error(self) -> None:
        with self.assertRaises(NexusError) as caught:
            self.nx.sandbox_create(unique("bad-ttl"), ttl_minutes=0)
        self.assertError(caught.exception, "usage")

    # ---- run -------------------------------------------------------------

    def test_run_returns_result(self) -> None:
        sandbox_id = self.nx.sandbox_create(unique("run"))["sandbox_id"]
        result = self.nx.sandbox_run(sandbox_id=sandbox_id, language="python",
                                     code="print('Hello World')")
        self.assertRun(result, "Hello World\n")
        self.assertEqual(result["stderr"], "")

    def test_run_languages(self) -> None:
        sandbox_id = self.nx.sandbox_create(unique("langs"))["sandbox_id"]
        self.assertRun(self.nx.sandbox_run(sandbox_id, "javascript",
                                           "console.log('Hello')"),
                       "Hello\n")
        self.assertRun(self.nx.sandbox_run(sandbox_id, "bash",
                                           "echo $((6 * 7))"),
                       "42\n")
        self.assertRun(self.nx.sandbox_run(
            sandbox_id, "python", "import time; time.sleep(1); print(1)",
            timeout=60), "1\n")

    def test_run_program_failure_is_a_result(self) -> None:
        sandbox_id = self.nx.sandbox_create(unique("fail"))["sandbox_id"]
        result = self.nx.sandbox_run(
            sandbox_id, "python",
            "import sys\nprint('out')\nprint('err', file=sys.stderr)\n"
            "sys.exit(3)")
        self.assertRun(result, "out\n", exit_code=3)
        self.assertEqual(result["stderr"], "err\n")
        result = self.nx.sandbox_run(sandbox_id, "python", "print(1/0)")
        self.assertNotEqual(result["exit_code"], 0)
        self.assertIn("ZeroDivisionError", result["stderr"])

    def test_code_arrives_unchanged(self) -> None:
        sandbox_id = self.nx.sandbox_create(unique("bytes"))["sandbox_id"]
        code = f"import sys\nsys.stdout.write(r'''{PAYLOAD}''')\n"
        self.assertRun(self.nx.sandbox_run(sandbox_id, "python", code),
                       PAYLOAD)
        bash_payload = PAYLOAD + "\ncarriage\rreturn"
        code = f"cat <<'NEXUS_EOF'\n{bash_payload}\nNEXUS_EOF\n"
        self.assertRun(self.nx.sandbox_run(sandbox_id, "bash", code),
                       bash_payload + "\n")

    def test_run_bad_language_is_usage_error(self) -> None:
        sandbox_id = self.nx.sandbox_create(unique("cobol"))["sandbox_id"]
        with self.assertRaises(NexusError) as caught:
            self.nx.sandbox_run(sandbox_id, "cobol", "DISPLAY 'HI'.")
        self.assertError(caught.exception, "usage")

    def test_run_timeout(self) -> None:
        sandbox_id = self.nx.sandbox_create(unique("slow"))["sandbox_id"]
        with self.assertRaises(SandboxTimeoutError) as caught:
            self.nx.sandbox_run(
                sandbox_id, "python",
                "import time\nprint('started', flush=True)\ntime.sleep(100)",
                timeout=1)
        error = caught.exception
        self.assertError(error, "timeout")
        self.assertEqual(str(error), "Code execution exceeded 1 second timeout")
        if self.timeout_keeps_output:
            self.assertEqual(set(error.result), RUN_KEYS)
            self.assertEqual(error.result["stdout"], "started\n")
        else:
            self.assertIsNone(error.result)
        # The sandbox is still usable after a timeout.
        self.assertRun(self.nx.sandbox_run(sandbox_id, "python", "print(2)"),
                       "2\n")

    # ---- list ------------------------------------------------------------

    def test_list_shape(self) -> None:
        record = self.nx.sandbox_create(unique("listed"))
        entries = self.listed()
        entry = entries[record["sandbox_id"]]
        self.assertEqual(set(entry), LIST_ENTRY_KEYS)
        self.assertEqual(entry["name"], record["name"])
        self.assertEqual(entry["status"], "active")
        self.assertTime(entry["created_at"])
        self.assertTime(entry["expires_at"])
        self.assertEqual(entry["ttl_minutes"], 10)
        self.assertNumber(entry["uptime_seconds"])

    def test_list_verify(self) -> None:
        record = self.nx.sandbox_create(unique("verified"))
        entry = self.listed(verify_status=True)[record["sandbox_id"]]
        self.assertEqual(set(entry), LIST_ENTRY_KEYS | VERIFY_KEYS)
        self.assertIs(entry["verified"], True)
        self.assertEqual(entry["provider_status"], "active")

    def test_list_context_filters(self) -> None:
        agent = unique("agent")
        mine = self.nx.sandbox_create(unique("agent-a"), agent_id=agent)
        other = self.nx.sandbox_create(unique("no-agent"))
        both = {mine["sandbox_id"], other["sandbox_id"]}
        self.assertEqual(set(self.listed(context={"agent_id": agent})),
                         {mine["sandbox_id"]})
        # The spec's spelling "user", the CLI's and API's "user_id".
        user = mine["user_id"]
        self.assertLessEqual(both, set(self.listed(context={"user": user})))
        self.assertEqual(
            set(self.listed(context={"user_id": user, "agent_id": agent},
                            verify_status=True)),
            {mine["sandbox_id"]})
        self.assertLessEqual(
            both, set(self.listed(context={"tenant_id": mine["tenant_id"]})))
        self.assertLessEqual(both, set(self.listed(context={"agent_id": None})))
        with self.assertRaises(NexusError) as caught:
            self.nx.sandbox_list(context={"usr": user})
        self.assertError(caught.exception, "usage")

    # ---- status, pause, resume, stop ---------------------------------------

    def test_status(self) -> None:
        created = self.nx.sandbox_create(unique("status"))
        status = self.nx.sandbox_status(sandbox_id=created["sandbox_id"])
        self.assertRecord(status, "active")
        for key in ("sandbox_id", "name", "user_id", "tenant_id", "provider",
                    "created_at", "ttl_minutes"):
            self.assertEqual(status[key], created[key])
        self.assertRecord(self.nx.sandbox_status(created["sandbox_id"],
                                                 verify=True),
                          "active", verified=True)

    def test_pause_and_resume(self) -> None:
        sandbox_id = self.nx.sandbox_create(unique("pause"))["sandbox_id"]
        paused = self.nx.sandbox_pause(sandbox_id=sandbox_id)
        self.assertEqual(set(paused), PAUSE_KEYS)
        self.assertEqual(paused["sandbox_id"], sandbox_id)
        self.assertEqual(paused["status"], "paused")
        self.assertTime(paused["paused_at"])
        self.assertIsNone(paused["expires_at"])
        self.assertRecord(self.nx.sandbox_status(sandbox_id), "paused")
        for call in (lambda: self.nx.sandbox_run(sandbox_id, "python", "1"),
                     lambda: self.nx.sandbox_pause(sandbox_id)):
            with self.assertRaises(NexusError) as caught:
                call()
            self.assertError(caught.exception, "state")

        resumed = self.nx.sandbox_resume(sandbox_id=sandbox_id)
        self.assertEqual(set(resumed), PAUSE_KEYS)
        self.assertEqual(resumed["status"], "active")
        self.assertIsNone(resumed["paused_at"])
        self.assertTime(resumed["expires_at"])
        with self.assertRaises(NexusError) as caught:
            self.nx.sandbox_resume(sandbox_id)
        self.assertError(caught.exception, "state")
        self.assertRun(self.nx.sandbox_run(sandbox_id, "python", "print(3)"),
                       "3\n")

    def test_stop(self) -> None:
        sandbox_id = self.nx.sandbox_create(unique("stop"))["sandbox_id"]
        stopped = self.nx.sandbox_stop(sandbox_id=sandbox_id)
        self.assertEqual(set(stopped), STOP_KEYS)
        self.assertEqual(stopped["sandbox_id"], sandbox_id)
        self.assertEqual(stopped["status"], "stopped")
        self.assertTime(stopped["stopped_at"])
        self.assertIsNone(stopped["expires_at"])
        status = self.nx.sandbox_status(sandbox_id)
        self.assertRecord(status, "stopped")
        self.assertEqual(status["stopped_at"], stopped["stopped_at"])
        self.assertEqual(self.nx.sandbox_stop(sandbox_id), stopped)
        with self.assertRaises(NexusError) as caught:
            self.nx.sandbox_run(sandbox_id, "python", "print(1)")
        self.assertError(caught.exception, "state")

    # ---- errors ------------------------------------------------------------

    def test_unknown_sandbox(self) -> None:
        ref = unique("no-such-sandbox")
        calls = {
            "run": lambda: self.nx.sandbox_run(ref, "python", "print(1)"),
            "status": lambda: self.nx.sandbox_status(ref),
            "pause": lambda: self.nx.sandbox_pause(ref),
            "resume": lambda: self.nx.sandbox_resume(ref),
            "stop": lambda: self.nx.sandbox_stop(ref),
        }
        for command, call in calls.items():
            with self.subTest(command=command):
                with self.assertRaises(SandboxNotFoundError) as caught:
                    call()
                self.assertError(caught.exception, "not_found")
                self.assertIn(f"'{ref}'", str(caught.exception))

    def test_ambiguous_name(self) -> None:
        name = unique("twin")
        self.nx.sandbox_create(name)
        self.nx.sandbox_create(name)
        with self.assertRaises(NexusError) as caught:
            self.nx.sandbox_status(name)
        self.assertError(caught.exception, "ambiguous")

    # ---- the spec's Best Practices, verbatim --------------------------------

    def test_snippet_always_cleanup(self) -> None:
        nx = self.nx

        def task(code: str) -> dict[str, Any]:
            sandbox = nx.sandbox_create("task")
            try:
                result = nx.sandbox_run(sandbox["sandbox_id"], "python", code)
                return result
            finally:
                nx.sandbox_stop(sandbox["sandbox_id"])

        self.assertRun(task("print('done')"), "done\n")
        self.assertEqual(len(nx.created), 1)
        self.assertEqual(nx.sandbox_status(nx.created[0])["status"], "stopped")

    def test_snippet_handle_errors_gracefully(self) -> None:
        nx = self.nx
        logger = logging.getLogger("nexus.tests.snippet")
        good = nx.sandbox_create(unique("graceful"))["sandbox_id"]

        def handle(sandbox_id: str, code: str) -> None:
            try:
                result = nx.sandbox_run(sandbox_id, "python", code, timeout=30)
                if result["exit_code"] != 0:
                    logger.error(f"Code failed: {result['stderr']}")
            except Exception as e:
                logger.error(f"Sandbox execution error: {e}")

        with self.assertNoLogs(logger):
            handle(good, "print('ok')")
        with self.assertLogs(logger, "ERROR") as logs:
            handle(good, "print(1/0)")
        self.assertIn("Code failed: Traceback", logs.output[0])
        self.assertIn("ZeroDivisionError", logs.output[0])
        missing = unique("gone")
        with self.assertLogs(logger, "ERROR") as logs:
            handle(missing, "print('ok')")
        self.assertEqual(len(logs.output), 1)
        self.assertRegex(logs.output[0],
                         rf"Sandbox execution error: .*'{missing}'")


class LocalModeTests(ClientChecks, unittest.TestCase):
    """Local mode: the CLI of the build under test, a data directory of its
    own, the real Docker engine."""

    timeout_keeps_output = False

    @classmethod
    def setUpClass(cls) -> None:
        if not os.access(support.NEXUS_BIN, os.X_OK):
            message = f"no nexus CLI at {support.NEXUS_BIN} (build it first)"
            if support.IN_CI:
                raise AssertionError(message)
            raise unittest.SkipTest(message)
        environment = mock.patch.dict(os.environ, support.ENGINE_ENV)
        environment.start()
        cls.addClassCleanup(environment.stop)
        for name in ("NEXUS_URL", "NEXUS_API_KEY"):
            os.environ.pop(name, None)
        data_dir = tempfile.mkdtemp(prefix="nexus-python-test.")
        cls.addClassCleanup(shutil.rmtree, data_dir, ignore_errors=True)
        os.environ["NEXUS_DATA_DIR"] = data_dir
        # Last line of defence: the data directory is this class's own, so
        # anything still running in it was made here.
        cls.addClassCleanup(cls.stop_everything)

    @classmethod
    def stop_everything(cls) -> None:
        client = nexus.connect(nexus_bin=support.NEXUS_BIN)
        for entry in client.sandbox_list()["sandboxes"]:
            if entry["status"] != "stopped":
                client.sandbox_stop(entry["sandbox_id"])

    def make_client(self) -> nexus.Client:
        client = nexus.connect(nexus_bin=support.NEXUS_BIN)
        self.assertIsInstance(client, nexus.LocalClient)
        return client

    def test_remote_variables_do_not_reach_the_cli(self) -> None:
        with mock.patch.dict(os.environ, {"NEXUS_URL": "http://127.0.0.1:9",
                                          "NEXUS_API_KEY": "nxk_x"}):
            self.assertEqual(set(self.nx.sandbox_list()), {"sandboxes"})

    def test_cli_from_nexus_bin_variable(self) -> None:
        with mock.patch.dict(os.environ, {"NEXUS_BIN": support.NEXUS_BIN}):
            client = nexus.connect()
        self.assertEqual(client.nexus_bin, support.NEXUS_BIN)


class RemoteModeTests(ClientChecks, unittest.TestCase):
    """Remote mode: a `nexus serve` at NEXUS_TEST_URL, with the key
    NEXUS_TEST_KEY."""

    timeout_keeps_output = True

    @classmethod
    def setUpClass(cls) -> None:
        cls.url = os.environ.get("NEXUS_TEST_URL")
        cls.key = os.environ.get("NEXUS_TEST_KEY")
        if not (cls.url and cls.key):
            raise unittest.SkipTest(
                "set NEXUS_TEST_URL (a nexus serve) and NEXUS_TEST_KEY (a "
                "valid key of it) to run the remote-mode tests")

    def make_client(self) -> nexus.Client:
        client = nexus.connect(url=self.url, api_key=self.key)
        self.assertIsInstance(client, nexus.RemoteClient)
        return client

    def test_bad_key(self) -> None:
        client = nexus.connect(url=self.url, api_key="nxk_000000000000_" + "0" * 64)
        with self.assertRaises(AuthError) as caught:
            client.sandbox_list()
        self.assertEqual(caught.exception.kind, "auth")


class ConnectTests(unittest.TestCase):
    """Choosing the mode, and failures that need no nexus at all."""

    def test_unreachable_server(self) -> None:
        url = "http://127.0.0.1:9"
        with mock.patch.dict(os.environ, {"NEXUS_URL": url}):
            from_environment = nexus.connect()
        for client in (nexus.connect(url=url), from_environment):
            self.assertIsInstance(client, nexus.RemoteClient)
            with self.assertRaises(NexusUnreachableError) as caught:
                client.sandbox_list()
            error = caught.exception
            self.assertIsInstance(error, ConnectionError)
            self.assertEqual(error.kind, "unreachable")
            self.assertIn(url, str(error))

    def test_not_an_http_url(self) -> None:
        with self.assertRaises(NexusError) as caught:
            nexus.connect(url="localhost:8080")
        self.assertEqual(caught.exception.kind, "usage")

    def test_missing_cli(self) -> None:
        with mock.patch.dict(os.environ):
            os.environ.pop("NEXUS_URL", None)
            with self.assertRaises(NexusError) as caught:
                nexus.connect(nexus_bin="/nonexistent/nexus")
        self.assertEqual(caught.exception.kind, "usage")
        self.assertIn("/nonexistent/nexus", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
