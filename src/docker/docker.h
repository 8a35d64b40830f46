/* docker.h - a small Docker Engine API client: libcurl over the engine's
 * unix socket, every reply bounded and validated.  Only what nexus needs.
 *
 * The API version is negotiated once per client (GET /_ping, header
 * Api-Version): the engine's version capped at NX_DOCKER_API_MAX, and an
 * engine older than NX_DOCKER_API_MIN is refused with a clear error. */
#ifndef NX_DOCKER_H
#define NX_DOCKER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util.h"

#define NX_DOCKER_DEFAULT_SOCKET "/var/run/docker.sock"
#define NX_DOCKER_API_MIN "1.41"
#define NX_DOCKER_API_MAX "1.47"
/* Largest JSON reply we accept from the engine. */
#define NX_DOCKER_REPLY_MAX (4u << 20)

typedef struct nx_docker nx_docker;

/* socket_path NULL: DOCKER_HOST (unix:// only) or the default socket.
 * Connects lazily; never fails except on a bad DOCKER_HOST. */
NX_HIDDEN int nx_docker_new(const char *socket_path, nx_docker **out,
			    nx_error *err);
NX_HIDDEN void nx_docker_free(nx_docker *d);
NX_HIDDEN const char *nx_docker_socket(const nx_docker *d);

/* Deadline for each ordinary call (not exec or import), in milliseconds. */
NX_HIDDEN void nx_docker_set_timeout(nx_docker *d, long timeout_ms);

/* Unreachable engine: NX_E_UNREACHABLE naming the socket and how to start
 * Docker.  Other engine errors: NX_E_PROVIDER with the engine's message. */
NX_HIDDEN int nx_docker_ping(nx_docker *d, nx_error *err);

/* Whether the engine has a container runtime of this name registered
 * (GET /info, "Runtimes"). */
NX_HIDDEN int nx_docker_has_runtime(nx_docker *d, const char *name,
				    bool *has, nx_error *err);
NX_HIDDEN int nx_docker_image_exists(nx_docker *d, const char *ref,
				     bool *exists, nx_error *err);

/* POST /containers/create?name=NAME with the given body; *id_out is the
 * full container id (malloc'd). */
NX_HIDDEN int nx_docker_container_create(nx_docker *d, const char *name,
					 json_object *config, char **id_out,
					 nx_error *err);
NX_HIDDEN int nx_docker_container_start(nx_docker *d, const char *id,
					nx_error *err);

typedef struct nx_container_state {
	bool exists;          /* false on 404 */
	bool running;
	bool paused;
	bool oom_killed;
	int exit_code;
	int pid;              /* host pid of the container's init; 0 if none */
	char status[16];      /* engine's State.Status: running, paused, exited... */
} nx_container_state;

NX_HIDDEN int nx_docker_container_inspect(nx_docker *d, const char *id,
					  nx_container_state *state,
					  nx_error *err);
NX_HIDDEN int nx_docker_container_pause(nx_docker *d, const char *id,
					nx_error *err);
NX_HIDDEN int nx_docker_container_unpause(nx_docker *d, const char *id,
					  nx_error *err);
/* DELETE /containers/ID?force=true; a container already gone (404) is
 * success, and so is "removal already in progress" (409). */
NX_HIDDEN int nx_docker_container_remove(nx_docker *d, const char *id,
					 nx_error *err);

/* Every container, running or not, carrying the label "key=value" (or
 * just "key"): its id, creation time and the value of its label value_key
 * (NULL when it has none). */
typedef struct nx_docker_container {
	char *id;
	char *label;
	int64_t created;   /* seconds since the epoch */
} nx_docker_container;
NX_HIDDEN int nx_docker_container_list_by_label(nx_docker *d,
						const char *label,
						const char *value_key,
						nx_docker_container **out,
						size_t *count, nx_error *err);
NX_HIDDEN void nx_docker_container_list_free(nx_docker_container *v,
					     size_t count);

/* ---- exec ---------------------------------------------------------------
 * Create an exec (stdin, stdout and stderr attached, no tty), start it on a
 * hijacked connection, write stdin_data to its stdin, then deliver the
 * demultiplexed output to on_output as it arrives, until the engine closes
 * the stream; then read the exit code.  Stdin is not closed after
 * stdin_data: the program inside must know where its input ends.
 *
 * deadline_us (nx_monotonic_us clock, 0 for none): past it the call gives up
 * with NX_E_TIMEOUT; the process inside is NOT killed by that (the engine
 * cannot do it), which is the caller's business. */
typedef void (*nx_docker_output_fn)(void *userdata, int stream,
				    const char *data, size_t len);

typedef struct nx_docker_exec_req {
	const char *container;
	const char *user;          /* "1000:1000" */
	const char *workdir;       /* may be NULL */
	const char *const *argv;   /* NULL-terminated */
	const char *const *env;    /* NULL-terminated "K=V", may be NULL */
	const void *stdin_data;
	size_t stdin_len;
	int64_t deadline_us;
	nx_docker_output_fn on_output;  /* stream: 1 stdout, 2 stderr */
	void *userdata;
} nx_docker_exec_req;

NX_HIDDEN int nx_docker_exec(nx_docker *d, const nx_docker_exec_req *req,
			     int *exit_code, nx_error *err);

/* POST /images/create?fromSrc=-&repo=REPO&tag=TAG&changes=... with the tar
 * stream read from tar_fd as the body (chunked).  progress (may be NULL) is
 * called with the bytes sent so far. */
typedef void (*nx_docker_progress_fn)(void *userdata, uint64_t bytes);
NX_HIDDEN int nx_docker_image_import(nx_docker *d, int tar_fd,
				     const char *repo, const char *tag,
				     const char *const *changes,
				     nx_docker_progress_fn progress,
				     void *userdata, nx_error *err);

/* Images whose reference starts with "repo:" (e.g. nexus-runtime): one
 * malloc'd "repo:tag" string per image plus its size in bytes. */
typedef struct nx_docker_image {
	char *ref;
	int64_t size;
	int64_t created;   /* seconds since the epoch */
} nx_docker_image;
NX_HIDDEN int nx_docker_image_list(nx_docker *d, const char *repo,
				   nx_docker_image **images_out,
				   size_t *count_out, nx_error *err);
NX_HIDDEN void nx_docker_image_list_free(nx_docker_image *images,
					 size_t count);

/* ---- the engine's replies, parsed apart from the I/O for fuzzing ---------
 * Each takes a whole reply body (NUL-terminated, len bytes) that came with
 * the status the call wants; what names the reply in errors ("reply to GET
 * /containers/ID/json").  Any bytes at all give either the outputs, each
 * checked, or -1 with err filled (NX_E_PROTOCOL, one line) and the outputs
 * left empty. */

/* Strict JSON, one document of the given type, nothing after it. */
NX_HIDDEN int nx_docker_parse_reply(const char *body, size_t len,
				    const char *what, json_type type,
				    json_object **out, nx_error *err);
/* {"Id": ...} of POST /containers/create or /containers/ID/exec; object
 * is "container" or "exec".  *id_out (malloc'd) is 1 to 128 bytes of
 * [A-Za-z0-9_.:-], and neither "." nor "..". */
NX_HIDDEN int nx_docker_parse_create(const char *body, size_t len,
				     const char *what, const char *object,
				     char **id_out, nx_error *err);
/* GET /containers/ID/json: State's Status, Running, Paused, OOMKilled,
 * ExitCode and Pid; pid >= 0, status clean text that fits.  exists is
 * true on success. */
NX_HIDDEN int nx_docker_parse_inspect(const char *body, size_t len,
				      const char *what,
				      nx_container_state *state,
				      nx_error *err);
/* GET /info: whether "Runtimes" names a runtime called name. */
NX_HIDDEN int nx_docker_parse_runtimes(const char *body, size_t len,
				       const char *what, const char *name,
				       bool *has, nx_error *err);
/* GET /exec/ID/json: Running, and ExitCode once it is false (-1 before). */
NX_HIDDEN int nx_docker_parse_exec_state(const char *body, size_t len,
					 const char *what, bool *running,
					 int *exit_code, nx_error *err);
/* GET /containers/json: as nx_docker_container_list_by_label. */
NX_HIDDEN int nx_docker_parse_container_list(const char *body, size_t len,
					     const char *what,
					     const char *value_key,
					     nx_docker_container **out,
					     size_t *count, nx_error *err);
/* GET /images/json: as nx_docker_image_list. */
NX_HIDDEN int nx_docker_parse_image_list(const char *body, size_t len,
					 const char *what, const char *repo,
					 nx_docker_image **images_out,
					 size_t *count_out, nx_error *err);
/* POST /images/create: a stream of JSON objects after the 200, any of
 * which may carry the error (NX_E_PROVIDER with the engine's words). */
NX_HIDDEN int nx_docker_check_import(const char *body, size_t len,
				     nx_error *err);
/* An error reply's message as one line of at most size - 1 bytes: the
 * JSON's "message", else the body's printable ASCII, else "HTTP status". */
NX_HIDDEN void nx_docker_engine_message(long status, const char *body,
					size_t len, char *out, size_t size);
/* The Api-Version header, "MAJOR.MINOR", each at most 1000; -1 if not. */
NX_HIDDEN int nx_docker_parse_api_version(const char *s, long *major,
					  long *minor);

/* ---- the multiplexed stream format, apart for tests and fuzzing ---------
 * Without a tty the engine frames output as: 1 byte stream (0 stdin,
 * 1 stdout, 2 stderr), 3 zero bytes, 4 bytes big-endian length, payload.
 * The parser takes bytes in any split and calls on_output per payload
 * piece; a frame with a bad header is a protocol error.  Payload pieces
 * may be delivered before the whole frame has arrived. */
typedef struct nx_mux_parser {
	unsigned char header[8];
	size_t header_len;
	uint32_t remaining;   /* payload bytes still expected in this frame */
	int stream;
	nx_docker_output_fn on_output;
	void *userdata;
} nx_mux_parser;

NX_HIDDEN void nx_mux_init(nx_mux_parser *p, nx_docker_output_fn fn,
			   void *userdata);
NX_HIDDEN int nx_mux_feed(nx_mux_parser *p, const char *data, size_t len,
			  nx_error *err);
/* True when the stream ended on a frame boundary. */
NX_HIDDEN bool nx_mux_at_boundary(const nx_mux_parser *p);

#endif
