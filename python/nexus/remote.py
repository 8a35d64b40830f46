"""Remote mode: the HTTP API of ``nexus serve`` (docs/api.md)."""

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .client import Client, list_filters
from .errors import NexusError, NexusUnreachableError, error_for

# Seconds to wait for an answer to anything but a run.
_REQUEST_TIMEOUT = 60
# A run's answer comes when the run ends: its own timeout, plus this.
_RUN_GRACE = 30
# What the API's run result adds to the contract's.
_EXTRA_RUN_FIELDS = ("stdout_base64", "stderr_base64")


def _ref(sandbox_id: str) -> str:
    """A sandbox id or name as one path segment."""
    return urllib.parse.quote(sandbox_id, safe="")


def _contract_result(result: dict[str, Any]) -> dict[str, Any]:
    """A run result as the spec has it: without the exact-bytes fields."""
    return {key: value for key, value in result.items()
            if key not in _EXTRA_RUN_FIELDS}


class RemoteClient(Client):
    """Sandboxes of a ``nexus serve`` server, over HTTP."""

    def __init__(self, url: str, api_key: str | None) -> None:
        """url: the server's base URL; api_key: sent as a Bearer token, or
        None for a server without keys."""
        self.url = url.rstrip("/")
        self._api_key = api_key

    def sandbox_create(self, name: str, ttl_minutes: int = 10,
                       template_id: str | None = None,
                       agent_id: str | None = None,
                       isolation: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, "ttl_minutes": ttl_minutes}
        if template_id is not None:
            body["template_id"] = template_id
        if agent_id is not None:
            body["agent_id"] = agent_id
        if isolation is not None:
            body["isolation"] = isolation
        return self._request("POST", "/v1/sandboxes", body)

    def sandbox_run(self, sandbox_id: str, language: str, code: str,
                    timeout: int = 30) -> dict[str, Any]:
        body = {"language": language, "code": code, "timeout": timeout}
        result = self._request("POST", f"/v1/sandboxes/{_ref(sandbox_id)}/run",
                               body, timeout=timeout + _RUN_GRACE)
        return _contract_result(result)

    def sandbox_list(self, context: dict[str, str | None] | None = None,
                     verify_status: bool = False) -> dict[str, Any]:
        query = list_filters(context)
        if verify_status:
            query["verify"] = "true"
        return self._request("GET", "/v1/sandboxes", query=query)

    def sandbox_status(self, sandbox_id: str,
                       verify: bool = False) -> dict[str, Any]:
        return self._request("GET", f"/v1/sandboxes/{_ref(sandbox_id)}",
                             query={"verify": "true"} if verify else {})

    def sandbox_pause(self, sandbox_id: str) -> dict[str, Any]:
        return self._request("POST", f"/v1/sandboxes/{_ref(sandbox_id)}/pause")

    def sandbox_resume(self, sandbox_id: str) -> dict[str, Any]:
        return self._request("POST",
                             f"/v1/sandboxes/{_ref(sandbox_id)}/resume")

    def sandbox_stop(self, sandbox_id: str) -> dict[str, Any]:
        return self._request("POST", f"/v1/sandboxes/{_ref(sandbox_id)}/stop")

    def _request(self, method: str, path: str,
                 body: dict[str, Any] | None = None,
                 query: dict[str, str] | None = None,
                 timeout: float = _REQUEST_TIMEOUT) -> dict[str, Any]:
        """Send one request; return the JSON object of a 2xx answer, raise
        the answer's error otherwise."""
        url = self.url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(url, data=data, headers=headers,
                                         method=method)
        status, payload = self._exchange(request, timeout)
        try:
            answer = json.loads(payload)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise NexusError(
                "protocol",
                f"the nexus server at {self.url} answered {method} {path} "
                f"with HTTP {status} and a body that is not a JSON object")
        if 200 <= status < 300:
            return answer
        error = answer.get("error")
        if not (isinstance(error, dict) and isinstance(error.get("kind"), str)
                and isinstance(error.get("message"), str)):
            raise NexusError(
                "protocol",
                f"the nexus server at {self.url} answered {method} {path} "
                f"with HTTP {status} and no error kind and message")
        result = answer.get("result")
        raise error_for(error["kind"], error["message"],
                        _contract_result(result)
                        if isinstance(result, dict) else None)

    def _exchange(self, request: urllib.request.Request,
                  timeout: float) -> tuple[int, bytes]:
        """Send a request; return the answer's status and body, whatever the
        status.  A server that cannot be reached, or goes silent or away,
        is NexusUnreachableError."""
        try:
            try:
                with urllib.request.urlopen(request, timeout=timeout) as answer:
                    return answer.status, answer.read()
            except urllib.error.HTTPError as e:
                with e:
                    return e.code, e.read()
        except urllib.error.URLError as e:
            raise NexusUnreachableError(
                "unreachable",
                f"cannot reach the nexus server at {self.url}: {e.reason}") from e
        except TimeoutError as e:
            raise NexusUnreachableError(
                "unreachable",
                f"the nexus server at {self.url} did not answer within "
                f"{timeout:g} seconds") from e
        except (OSError, http.client.HTTPException) as e:
            raise NexusUnreachableError(
                "unreachable",
                f"lost the connection to the nexus server at {self.url}: "
                f"{str(e) or type(e).__name__}") from e
