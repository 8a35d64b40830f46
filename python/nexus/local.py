"""Local mode: drive the installed ``nexus`` CLI with ``--json``."""

import json
import os
import re
import subprocess
from typing import Any

from .client import Client, list_filters
from .errors import NexusError, error_for

# The CLI refuses to run sandbox commands when NEXUS_URL is set, and a key
# has no business reaching a local child.
_REMOTE_VARIABLES = ("NEXUS_URL", "NEXUS_API_KEY")

# Exit statuses of `nexus sandbox run` for its own failures (nexus(1)).
_RUN_TIMEOUT = 124
# Exit status of the other commands for a bad command line.
_USAGE = 2

# The CLI tells the kind of an error by its exit status only in part; the
# rest is read from the message, first match wins.  The order matters:
# an image that is "not found" is an image error, a name that "matches"
# several sandboxes is ambiguous whatever the name says.
_MESSAGE_KINDS = [
    (re.compile(r"^cannot reach the Docker engine"), "unreachable"),
    (re.compile(r"^runtime image .* is not built|"
                r"^image .* not found in the local Docker engine"), "image"),
    (re.compile(r"^name .* matches \d+ sandboxes"), "ambiguous"),
    (re.compile(r"^sandbox .* not found|^no sandbox|container has ended"),
     "not_found"),
    (re.compile(r"^sandbox '[a-z0-9]+' (is|was) |^the sandbox (is|was) paused"),
     "state"),
    (re.compile(r"state database"), "store"),
    (re.compile(r"^'standard input' is larger than"), "too_large"),
    (re.compile(r"^unknown |^--|^use either|^no code given"), "usage"),
]
# Any other failure of the CLI.
_OTHER_KIND = "provider"


def error_kind(command: str, status: int, message: str) -> str:
    """Guess the API's error kind of a failed ``nexus sandbox COMMAND``
    from its exit status and message (see README.md for the table)."""
    if command == "run" and status == _RUN_TIMEOUT:
        return "timeout"
    if command != "run" and status == _USAGE:
        return "usage"
    for pattern, kind in _MESSAGE_KINDS:
        if pattern.search(message):
            return kind
    return _OTHER_KIND


def error_message(command: str, status: int, stderr: bytes) -> str:
    """The CLI's ``Error: MESSAGE`` line without its prefix, or, when it
    printed none, its last line or what became of it."""
    lines = [line.strip()
             for line in stderr.decode("utf-8", "replace").splitlines()
             if line.strip()]
    errors = [line for line in lines if line.startswith("Error: ")]
    if errors:
        return errors[-1][len("Error: "):]
    if lines:
        return lines[-1]
    if status < 0:
        return f"'nexus sandbox {command}' was killed by signal {-status}"
    return f"'nexus sandbox {command}' exited with status {status}"


class LocalClient(Client):
    """Sandboxes of this machine, through the ``nexus`` CLI.

    Each call runs the CLI once, with the caller's environment (less
    NEXUS_URL and NEXUS_API_KEY), so NEXUS_DATA_DIR and the like apply.
    """

    def __init__(self, nexus_bin: str) -> None:
        """nexus_bin: path of the CLI."""
        self.nexus_bin = nexus_bin

    def sandbox_create(self, name: str, ttl_minutes: int = 10,
                       template_id: str | None = None,
                       agent_id: str | None = None,
                       isolation: str | None = None) -> dict[str, Any]:
        options = ["--ttl", str(ttl_minutes)]
        if template_id is not None:
            options += ["--template", template_id]
        if agent_id is not None:
            options += ["--agent-id", agent_id]
        if isolation is not None:
            options += ["--isolation", isolation]
        return self._call("create", options, name)

    def sandbox_run(self, sandbox_id: str, language: str, code: str,
                    timeout: int = 30) -> dict[str, Any]:
        options = ["--language", language, "--timeout", str(timeout),
                   "--code", "-"]
        return self._call("run", options, sandbox_id,
                          stdin=code.encode("utf-8"))

    def sandbox_list(self, context: dict[str, str | None] | None = None,
                     verify_status: bool = False) -> dict[str, Any]:
        options = []
        for field, value in list_filters(context).items():
            options += ["--" + field.replace("_", "-"), value]
        if verify_status:
            options.append("--verify")
        return self._call("list", options)

    def sandbox_status(self, sandbox_id: str,
                       verify: bool = False) -> dict[str, Any]:
        return self._call("status", ["--verify"] if verify else [],
                          sandbox_id)

    def sandbox_pause(self, sandbox_id: str) -> dict[str, Any]:
        return self._call("pause", [], sandbox_id)

    def sandbox_resume(self, sandbox_id: str) -> dict[str, Any]:
        return self._call("resume", [], sandbox_id)

    def sandbox_stop(self, sandbox_id: str) -> dict[str, Any]:
        return self._call("stop", [], sandbox_id)

    def _call(self, command: str, options: list[str], *operands: str,
              stdin: bytes = b"") -> dict[str, Any]:
        """Run ``nexus sandbox COMMAND --json OPTIONS -- OPERANDS`` and
        return the JSON it prints.  The ``--`` keeps a name or id that
        starts with a dash an operand."""
        argv = [self.nexus_bin, "sandbox", command, "--json", *options,
                "--", *operands]
        env = {key: value for key, value in os.environ.items()
               if key not in _REMOTE_VARIABLES}
        try:
            done = subprocess.run(argv, input=stdin, capture_output=True,
                                  env=env, check=False)
        except OSError as e:
            raise NexusError("system",
                             f"cannot run '{self.nexus_bin}': {e.strerror}") from e
        if done.returncode != 0:
            message = error_message(command, done.returncode, done.stderr)
            raise error_for(error_kind(command, done.returncode, message),
                            message)
        try:
            answer = json.loads(done.stdout)
        except ValueError as e:
            raise NexusError(
                "protocol",
                f"'{self.nexus_bin} sandbox {command} --json' printed "
                f"something that is not JSON: {e}") from e
        if not isinstance(answer, dict):
            raise NexusError(
                "protocol",
                f"'{self.nexus_bin} sandbox {command} --json' printed JSON "
                "that is not an object")
        return answer
