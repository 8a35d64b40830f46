/* agent_proto.h - the host side of the nexus-agent protocol: a parser for
 * the frames the agent writes (fed from the Docker exec's stdout in any
 * split) and the builder of the request frame.  No I/O, no clock: every
 * byte that comes from a sandbox is hostile, so everything is checked
 * against src/agent/protocol.h and anything unexpected is NX_E_PROTOCOL.
 * A fuzz harness can drive nx_agent_parser_feed directly. */
#ifndef NX_AGENT_PROTO_H
#define NX_AGENT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/protocol.h"
#include "util.h"

/* Called once per STDOUT/STDERR frame with its whole payload (1..64 KiB),
 * in stream order. */
typedef void (*nx_agent_data_fn)(void *userdata, nx_stream stream,
				 const char *data, size_t len);

typedef struct nx_agent_parser {
	/* set by nx_agent_parser_init */
	nx_agent_data_fn on_data;      /* may be NULL */
	void *userdata;
	/* Refuse more data bytes than this per stream (the agent stops at
	 * its --max-output); 0 means no limit. */
	uint64_t max_stream_bytes;

	/* results */
	uint32_t version;              /* from HELLO, 0 before */
	uint64_t stream_bytes[3];      /* data bytes seen, [1] out, [2] err */
	bool have_error;
	char error[NXA_MAX_ERROR + 1]; /* ERROR text, NUL-terminated */
	bool done;                     /* EXIT seen */
	uint8_t exit_reason;           /* enum nxa_reason */
	uint32_t exit_value;           /* exit status, signal or stream */
	uint64_t elapsed_us;

	/* internal */
	bool failed;                   /* sticky after the first error */
	nx_error fail;                 /* that error, replayed on every call */
	unsigned char hdr[NXA_HEADER_LEN];
	size_t hdr_len;
	uint32_t frame_len;
	size_t payload_len;
	unsigned char payload[NXA_MAX_DATA];
} nx_agent_parser;

NX_HIDDEN void nx_agent_parser_init(nx_agent_parser *p,
				    nx_agent_data_fn on_data, void *userdata,
				    uint64_t max_stream_bytes);

/* Consume len bytes.  Returns 0, or -1 with NX_E_PROTOCOL in err; once it
 * failed it keeps failing with the same error. */
NX_HIDDEN int nx_agent_parser_feed(nx_agent_parser *p, const void *data,
				   size_t len, nx_error *err);

/* The stream ended: -1 (NX_E_PROTOCOL) unless a complete EXIT frame was
 * the last thing in it. */
NX_HIDDEN int nx_agent_parser_finish(nx_agent_parser *p, nx_error *err);

/* "exited", "killed by signal", "timeout", "output limit",
 * "agent failure", or "unknown". */
NX_HIDDEN const char *nx_agent_reason_name(unsigned reason);

/* The request, in a malloc'd buffer: for the run socket (args, the run
 * agent's options, NULL-terminated) a RUN frame, then the CODE frame; for
 * a Docker exec (args NULL, they are its command line) the CODE frame
 * alone.  -1 (NX_E_USAGE) when the code is over NXA_MAX_CODE or the
 * arguments over NXA_MAX_RUN_ARGS or NXA_MAX_RUN bytes. */
NX_HIDDEN int nx_agent_build_request(const char *const *args,
				     const char *code, size_t code_len,
				     char **out, size_t *out_len,
				     nx_error *err);

#endif
