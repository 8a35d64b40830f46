"""The exceptions of the nexus client.

Every failure is a NexusError whose ``kind`` is one of the HTTP API's error
kinds (docs/api.md): usage, auth, forbidden, not_found, ambiguous, state,
too_large, image, store, system, unsupported, provider, protocol,
unreachable, timeout.  A few kinds have a subclass of their own, so that
callers can catch what they usually handle.
"""

from typing import Any


class NexusError(Exception):
    """A nexus operation failed.

    Attributes:
        kind: the API's error kind, e.g. ``"state"``.
        message: the one-line text the CLI prints after ``Error: ``;
            ``str(error)`` is this text.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class SandboxNotFoundError(NexusError):
    """No such sandbox, or not one the caller may see (kind ``not_found``)."""


class SandboxTimeoutError(NexusError):
    """The code ran past its timeout (kind ``timeout``).

    Attributes:
        result: the run result with the output produced before the timeout,
            when the server sent it (remote mode); None otherwise (the CLI
            prints no result for a run that timed out).
    """

    def __init__(self, kind: str, message: str,
                 result: dict[str, Any] | None = None) -> None:
        super().__init__(kind, message)
        self.result = result


class AuthError(NexusError):
    """The API key is missing, unknown or revoked (kind ``auth``), or does
    not allow the request (kind ``forbidden``)."""


class NexusUnreachableError(NexusError, ConnectionError):
    """The nexus server, or in local mode the Docker engine, cannot be
    reached or did not answer (kind ``unreachable``); the message names the
    URL or socket."""


_CLASSES: dict[str, type[NexusError]] = {
    "not_found": SandboxNotFoundError,
    "auth": AuthError,
    "forbidden": AuthError,
    "unreachable": NexusUnreachableError,
}


def error_for(kind: str, message: str,
              result: dict[str, Any] | None = None) -> NexusError:
    """Return the exception for an error of this kind.

    ``result`` is a timed-out run's partial result; only a timeout keeps it.
    """
    if kind == "timeout":
        return SandboxTimeoutError(kind, message, result)
    return _CLASSES.get(kind, NexusError)(kind, message)
