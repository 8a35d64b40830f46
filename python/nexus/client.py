"""The sandbox API shared by the local and the remote client."""

from abc import ABC, abstractmethod
from typing import Any

from .errors import NexusError

# Keys of sandbox_list's context and the filter each stands for; "user" is
# the spelling of the spec's example.
_CONTEXT_FILTERS = {
    "user_id": "user_id",
    "user": "user_id",
    "agent_id": "agent_id",
    "tenant_id": "tenant_id",
}


def list_filters(context: dict[str, str | None] | None) -> dict[str, str]:
    """Turn sandbox_list's context into filters named as the CLI options and
    the API's query parameters name them (user_id, agent_id, tenant_id).

    A key whose value is None is no filter; an unknown key is refused, so a
    typo does not widen the listing silently.
    """
    filters: dict[str, str] = {}
    for key, value in (context or {}).items():
        field = _CONTEXT_FILTERS.get(key)
        if field is None:
            raise NexusError(
                "usage",
                f"unknown context key '{key}'; use user_id (or user), "
                "agent_id or tenant_id")
        if value is not None:
            filters[field] = value
    return filters


class Client(ABC):
    """Sandboxes of one nexus: the local CLI's or a server's.

    Every method returns the JSON of the matching ``nexus sandbox ...
    --json`` command as a dict, and raises NexusError (or a subclass) on
    failure.  A sandbox is named by its id or by an unambiguous name.
    """

    @abstractmethod
    def sandbox_create(self, name: str, ttl_minutes: int = 10,
                       template_id: str | None = None,
                       agent_id: str | None = None,
                       isolation: str | None = None) -> dict[str, Any]:
        """Create and start a sandbox; return its record.

        Args:
            name: 1 to 128 bytes of printable UTF-8; need not be unique.
            ttl_minutes: idle timeout, 1 to 10080.
            template_id: runtime (default, python, javascript, bash) or a
                local Docker image; None for the default runtime.
            agent_id: the agent the sandbox belongs to, or None.
            isolation: "runc" or "gvisor" (gVisor's runsc, when the
                engine has it registered); None for NEXUS_ISOLATION or
                runc.
        """

    @abstractmethod
    def sandbox_run(self, sandbox_id: str, language: str, code: str,
                    timeout: int = 30) -> dict[str, Any]:
        """Run code in an active sandbox.

        Returns ``{"stdout", "stderr", "exit_code", "execution_time"}``; a
        program that fails is a result with a nonzero exit_code, not an
        exception.

        Args:
            sandbox_id: sandbox id or name.
            language: python, javascript or bash.
            code: the program, passed byte for byte (no shell involved).
            timeout: seconds, 1 to 86400; past it SandboxTimeoutError.
        """

    @abstractmethod
    def sandbox_list(self, context: dict[str, str | None] | None = None,
                     verify_status: bool = False) -> dict[str, Any]:
        """List sandboxes, by default the caller's; return
        ``{"sandboxes": [...]}``.

        Args:
            context: filters: user_id (or user, as in the spec), agent_id,
                tenant_id.
            verify_status: ask the provider for each sandbox's real status;
                adds ``verified`` and ``provider_status`` to each entry.
        """

    @abstractmethod
    def sandbox_status(self, sandbox_id: str,
                       verify: bool = False) -> dict[str, Any]:
        """Return a sandbox's record, as sandbox_create does; with verify,
        ask the provider first (adds ``verified`` and ``provider_status``)."""

    @abstractmethod
    def sandbox_pause(self, sandbox_id: str) -> dict[str, Any]:
        """Freeze an active sandbox; return ``{"sandbox_id", "name",
        "status", "paused_at", "expires_at"}``."""

    @abstractmethod
    def sandbox_resume(self, sandbox_id: str) -> dict[str, Any]:
        """Thaw a paused sandbox, restarting its TTL; return the shape of
        sandbox_pause."""

    @abstractmethod
    def sandbox_stop(self, sandbox_id: str) -> dict[str, Any]:
        """Stop and destroy a sandbox (a stopped one stays as it is); return
        ``{"sandbox_id", "name", "status", "stopped_at", "expires_at"}``."""
