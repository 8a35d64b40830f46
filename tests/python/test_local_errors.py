"""Local mode's reading of the CLI's failures: exit status and message to
the API's error kind.  The messages are the CLI's own.  Needs no nexus."""

import unittest

import support  # noqa: F401 (puts the tree's client on sys.path)
from nexus.local import error_kind, error_message

ID = "7w29tc88zmqxiuen3nn54"


class ErrorKindTests(unittest.TestCase):
    def test_kinds(self) -> None:
        cases = [
            ("run", 124, "Code execution exceeded 5 second timeout", "timeout"),
            ("status", 2, "unknown option '--bogus' (see 'nexus sandbox status --help')", "usage"),
            ("run", 125, "unknown option '--bogus' (see 'nexus sandbox run --help')", "usage"),
            ("run", 125, "unknown language 'cobol'; use python, javascript or bash", "usage"),
            ("run", 125, "--timeout must be a whole number of seconds from 1 to 86400, not '0'", "usage"),
            ("run", 125, "'standard input' is larger than 16777216 bytes", "too_large"),
            ("run", 125, "sandbox 'nope' not found (see 'nexus sandbox list')", "not_found"),
            ("stop", 1, "sandbox 'is paused' not found (see 'nexus sandbox list')", "not_found"),
            ("run", 125, "the sandbox container has ended (out of memory)", "not_found"),
            ("status", 1, "name 'x' matches 2 sandboxes; use a sandbox id (see 'nexus sandbox list')", "ambiguous"),
            ("run", 125, f"sandbox '{ID}' is paused; resume it with 'nexus sandbox resume {ID}'", "state"),
            ("run", 125, f"sandbox '{ID}' is stopped; create a new one with 'nexus sandbox create'", "state"),
            ("pause", 1, f"sandbox '{ID}' is already paused", "state"),
            ("resume", 1, f"sandbox '{ID}' is not paused", "state"),
            ("run", 125, "the sandbox was paused during the run", "state"),
            ("create", 1, "image 'nosuch' not found in the local Docker engine; build or load it first, or use a runtime (see 'nexus runtime list')", "image"),
            ("create", 1, "runtime image 'nexus-runtime:bash' is not built; build it with 'nexus runtime build bash'", "image"),
            ("list", 1, "cannot reach the Docker engine at /nonexistent: no such socket; start it with 'sudo systemctl start docker' (or 'sudo dockerd &')", "unreachable"),
            ("list", 1, "the state database '/x/nexus.db' is locked by another process", "store"),
            ("create", 1, "docker engine: something else", "provider"),
        ]
        for command, status, message, kind in cases:
            with self.subTest(message=message):
                self.assertEqual(error_kind(command, status, message), kind)

    def test_message(self) -> None:
        self.assertEqual(error_message("stop", 1, b"warning: x\nError: it failed\n"),
                         "it failed")
        self.assertEqual(error_message("stop", 1, b"Segmentation fault\n"),
                         "Segmentation fault")
        self.assertEqual(error_message("stop", -9, b""),
                         "'nexus sandbox stop' was killed by signal 9")
        self.assertEqual(error_message("list", 3, b""),
                         "'nexus sandbox list' exited with status 3")


if __name__ == "__main__":
    unittest.main()
