"""Python client of nexus, a local-first sandbox runtime.

    import nexus

    nx = nexus.connect()
    sandbox = nx.sandbox_create("task")
    try:
        result = nx.sandbox_run(sandbox["sandbox_id"], "python", "print(42)")
    finally:
        nx.sandbox_stop(sandbox["sandbox_id"])

connect() talks to a ``nexus serve`` server when given a URL (or NEXUS_URL
is set), and otherwise drives the ``nexus`` CLI of this machine.
"""

import os
import shutil
import urllib.parse

from .client import Client
from .errors import (AuthError, NexusError, NexusUnreachableError,
                     SandboxNotFoundError, SandboxTimeoutError)
from .local import LocalClient
from .remote import RemoteClient

__all__ = [
    "connect", "Client", "LocalClient", "RemoteClient", "NexusError",
    "SandboxNotFoundError", "SandboxTimeoutError", "AuthError",
    "NexusUnreachableError",
]


def connect(url: str | None = None, api_key: str | None = None,
            nexus_bin: str | None = None) -> Client:
    """Return a client for a nexus server or for the local CLI.

    Remote mode, when ``url`` or else the environment's NEXUS_URL is set
    (not empty): HTTP to that server, with ``api_key`` or else NEXUS_API_KEY
    as the Bearer key (none when neither is set).

    Local mode otherwise: the CLI ``nexus_bin``, or else NEXUS_BIN, or else
    ``nexus`` on PATH.

    Raises NexusError (kind ``usage``) for a URL that is not http(s) or a
    CLI that cannot be found.  Nothing is contacted until the first call.
    """
    url = url or os.environ.get("NEXUS_URL")
    if url:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise NexusError(
                "usage", f"'{url}' is not an http:// or https:// URL")
        return RemoteClient(url, api_key or os.environ.get("NEXUS_API_KEY"))
    name = nexus_bin or os.environ.get("NEXUS_BIN") or "nexus"
    path = shutil.which(name)
    if path is None:
        raise NexusError(
            "usage",
            f"cannot find the nexus CLI '{name}'; install nexus, or pass "
            "nexus_bin or set NEXUS_BIN")
    return LocalClient(path)
