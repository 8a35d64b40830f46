/* protocol.h - the byte protocol between the host and nexus-agent, shared
 * by the agent (src/agent/agent.c) and the host's parser (src/agent_proto.c).
 * docs/protocol.md is the prose version of this file.
 *
 * A frame is a 1-byte type, a 4-byte big-endian payload length and the
 * payload.  The host writes one CODE frame to the agent's stdin; the agent
 * answers on its stdout with HELLO, any number of STDOUT/STDERR frames, at
 * most one ERROR frame, and exactly one EXIT frame, always last.
 *
 * Two transports carry that exchange.  A Docker exec of "nexus-agent run
 * ARGS" uses the exec's stdin and stdout.  The run socket, which PID 1
 * listens on at NXA_SOCKET_DIR/NXA_SOCKET_NAME, takes one run per
 * connection: the host sends a RUN frame holding the same ARGS, then the
 * CODE frame, and reads the answer from the same connection.
 *
 * Self-contained on purpose: the agent is linked statically without
 * libnexus, so this header may only use the C library. */
#ifndef NX_AGENT_PROTOCOL_H
#define NX_AGENT_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

/* Bumped on any incompatible change; the agent announces it in HELLO and
 * the host refuses a stream with another version. */
#define NXA_VERSION 1

#define NXA_HEADER_LEN 5

/* Frame types.  The high bit says the direction (set: agent to host), so
 * a stream read the wrong way round fails on its first byte. */
enum nxa_type {
	NXA_CODE = 0x01,   /* host -> agent: the program text */
	NXA_RUN = 0x02,    /* host -> agent, socket only: the run's arguments */
	NXA_HELLO = 0x80,  /* agent -> host: first frame, the version */
	NXA_STDOUT = 0x81, /* agent -> host: bytes the program wrote */
	NXA_STDERR = 0x82,
	NXA_ERROR = 0x83,  /* agent -> host: one-line UTF-8 message */
	NXA_EXIT = 0x84,   /* agent -> host: how the run ended; last frame */
};

/* Payload limits.  Data frames carry 1..NXA_MAX_DATA bytes; an empty data
 * frame is never sent and is refused. */
#define NXA_MAX_CODE (16u * 1024 * 1024)
/* RUN: the arguments of "nexus-agent run", each ended by a NUL byte. */
#define NXA_MAX_RUN 1024u
#define NXA_MAX_RUN_ARGS 16
#define NXA_MAX_DATA (64u * 1024)
#define NXA_MAX_ERROR 1024u
#define NXA_HELLO_LEN 4  /* u32 version */
#define NXA_EXIT_LEN 13  /* u8 reason, u32 value, u64 elapsed microseconds */

/* EXIT reasons and the meaning of the value that goes with each. */
enum nxa_reason {
	NXA_EXITED = 0,       /* value: exit status 0..255 */
	NXA_SIGNALED = 1,     /* value: signal number 1..127 */
	NXA_TIMEOUT = 2,      /* value: 0; everything the run started was killed */
	NXA_OUTPUT_LIMIT = 3, /* value: the stream that passed the cap, 1 or 2 */
	NXA_AGENT_FAILURE = 4 /* value: 0; an ERROR frame came before */
};

/* How long the agent waits for the RUN and CODE frames before giving up. */
#define NXA_REQUEST_TIMEOUT_S 30

/* Where PID 1 listens inside the container, on a tmpfs of its own.  The
 * sandbox's code shares the agent's uid and can remove the socket: that
 * only sends its own runs back to the exec transport (docs/protocol.md,
 * "Transports"). */
#define NXA_SOCKET_DIR "/.nexus/run"
#define NXA_SOCKET_NAME "agent.sock"

static inline void nxa_put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static inline uint32_t nxa_get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void nxa_put_be64(unsigned char *p, uint64_t v)
{
	nxa_put_be32(p, (uint32_t)(v >> 32));
	nxa_put_be32(p + 4, (uint32_t)v);
}

static inline uint64_t nxa_get_be64(const unsigned char *p)
{
	return (uint64_t)nxa_get_be32(p) << 32 | nxa_get_be32(p + 4);
}

static inline void nxa_put_header(unsigned char h[NXA_HEADER_LEN],
				  uint8_t type, uint32_t len)
{
	h[0] = type;
	nxa_put_be32(h + 1, len);
}

#endif
