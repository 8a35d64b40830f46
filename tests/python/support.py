"""Shared setup of the Python client tests: the tree's client on sys.path,
and the paths of the build under test."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

# The build under test; each can be pointed elsewhere from the environment.
NEXUS_BIN = os.environ.get("NEXUS_BIN", str(ROOT / "nexus"))
ENGINE_ENV = {
    "NEXUS_AGENT": os.environ.get("NEXUS_AGENT", str(ROOT / "nexus-agent")),
    "NEXUS_SECCOMP_DIR": os.environ.get("NEXUS_SECCOMP_DIR",
                                        str(ROOT / "seccomp")),
    "NEXUS_RUNTIMES_DIR": os.environ.get("NEXUS_RUNTIMES_DIR",
                                         str(ROOT / "runtimes")),
}
# Under CI a missing prerequisite is a failure, not a skip.
IN_CI = os.environ.get("CI") == "true"
