# python-client.t - the Python client (python/nexus), the spec's Python
# snippets among its tests, in local mode (driving this build's CLI) and
# in remote mode (against a nexus serve with a key).  One TAP point per
# unittest test.
. "$top_srcdir/tests/integration/lib.sh"
need_docker python

start_server
NEXUS_TEST_KEY=$("$NEXUS_BIN" admin key create --user pyclient 2>/dev/null)
NEXUS_TEST_URL=$URL
export NEXUS_BIN NEXUS_TEST_URL NEXUS_TEST_KEY

python3 - "$top_srcdir/tests/python" <<'PY'
import sys
import unittest


class TapResult(unittest.TestResult):
    """Each test as one TAP line; a skip under CI=true is a failure."""

    def __init__(self):
        super().__init__()
        self.n = 0

    def line(self, ok, test, note=""):
        self.n += 1
        print(f"{'ok' if ok else 'not ok'} {self.n} - {test.id()}{note}", flush=True)

    def addSuccess(self, test):
        self.line(True, test)

    def addFailure(self, test, err):
        self.line(False, test)
        for l in self._exc_info_to_string(err, test).splitlines():
            print(f"#   {l}")

    addError = addFailure

    def addSkip(self, test, reason):
        import os
        if os.environ.get("CI") == "true":
            self.line(False, test, f" (skipped under CI: {reason})")
        else:
            self.line(True, test, f" # SKIP {reason}")


suite = unittest.defaultTestLoader.discover(sys.argv[1])
result = TapResult()
suite.run(result)
print(f"1..{result.n}")
sys.exit(0 if result.wasSuccessful() else 1)
PY
status=$?
stop_server
exit $status
