/* agent_socket.h - the run socket: runs that reach a sandbox's agent
 * without the Docker engine (docs/protocol.md, "Transports").
 *
 * PID 1 of every sandbox listens on NXA_SOCKET_DIR/NXA_SOCKET_NAME inside
 * the container.  The host reaches it through /proc/PID/root, PID being
 * the container's init as the engine reported it at start; everything on
 * the way is checked, because the sandbox's code can write where the
 * socket lives. */
#ifndef NX_AGENT_SOCKET_H
#define NX_AGENT_SOCKET_H

#include <stdint.h>
#include <sys/types.h>

#include "../agent_proto.h"
#include "../util.h"

/* Connect to the agent of container_id, whose init is host pid init_pid.
 * Returns a connected, non-blocking socket, or -1 with err saying why not:
 * NX_E_STATE when the container is frozen (paused), NX_E_NOTFOUND when
 * init_pid is gone or belongs to another container (the sandbox has most
 * likely ended), NX_E_UNSUPPORTED for everything else (no socket, no
 * access to /proc/PID/root, not the agent at the other end): the caller
 * may then run by exec. */
NX_HIDDEN int nx_agent_socket_connect(const char *container_id,
				      pid_t init_pid, nx_error *err);

/* Send the request (RUN and CODE frames), then feed everything the agent
 * answers to parser until the agent closes the connection or deadline_us
 * (monotonic) passes.  Returns 0, or -1 with NX_E_TIMEOUT, NX_E_PROTOCOL
 * (from the parser) or NX_E_SYSTEM.  Closing the connection early tells
 * the agent to kill the run. */
NX_HIDDEN int nx_agent_socket_exchange(int fd, const char *request,
				       size_t request_len, int64_t deadline_us,
				       nx_agent_parser *parser, nx_error *err);

#endif
