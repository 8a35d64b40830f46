/* fake_engine.h - a scripted Docker Engine on a unix socket for the client's
 * unit tests (after curl's tests/server/sws.c).
 *
 * A script is a list of steps.  Each step names the exact request it
 * expects (method, path and query), optional checks on its headers and
 * body, then actions: a reply, raw bytes (a hijacked exec stream, split
 * where the test likes), bytes expected back from the client (stdin), a
 * stall, a close.  Requests are matched to steps in the order they arrive,
 * on whatever connection they come; every difference is recorded, and
 * fake_finish reports them, so that a test asserts the exact requests.
 *
 * The engine runs in its own thread between fake_start and fake_finish; the
 * script is written before fake_start and not touched after. */
#ifndef NX_FAKE_ENGINE_H
#define NX_FAKE_ENGINE_H

#include <stddef.h>

typedef struct fake_engine fake_engine;

/* A fresh engine with its socket in a new temporary directory. */
fake_engine *fake_new(void);
const char *fake_socket(const fake_engine *f);
const char *fake_dir(const fake_engine *f);

/* ---- the script: each call below applies to the step added last ------ */

/* Expect a request: method and exact target ("/v1.41/containers/json?..."). */
void fake_expect(fake_engine *f, const char *method, const char *target);
/* The request carries this header ("Name: value"; the name is matched
 * without regard to case, the value exactly). */
void fake_expect_header(fake_engine *f, const char *header);
/* The request carries no header of this name. */
void fake_expect_no_header(fake_engine *f, const char *name);
/* The body is a JSON object whose member key equals json (compared as
 * JSON, so spacing and member order do not matter). */
void fake_expect_json(fake_engine *f, const char *key, const char *json);
/* The body is a JSON object without member key. */
void fake_expect_no_json(fake_engine *f, const char *key);
/* The body (after any chunked coding is undone) contains s. */
void fake_expect_body_has(fake_engine *f, const char *s);
/* The body (after any chunked coding is undone) is exactly these bytes. */
void fake_expect_body(fake_engine *f, const void *data, size_t len);

/* Answer status with extra headers ("Name: value\r\n"..., may be NULL) and
 * a body; Content-Length is added. */
void fake_reply(fake_engine *f, int status, const char *headers,
		const char *body);
void fake_reply_len(fake_engine *f, int status, const char *headers,
		    const void *body, size_t len);
/* Raw bytes, written as they are. */
void fake_send(fake_engine *f, const void *data, size_t len);
/* Raw bytes in pieces of piece bytes, with a short pause after each so
 * that the client reads them apart. */
void fake_send_split(fake_engine *f, const void *data, size_t len,
		     size_t piece);
/* Expect exactly these bytes from the client next (e.g. its stdin). */
void fake_read(fake_engine *f, const void *data, size_t len);
/* Expect the client to send nothing for ms milliseconds. */
void fake_expect_quiet(fake_engine *f, int ms);
/* Pause for ms milliseconds. */
void fake_pause(fake_engine *f, int ms);
/* Answer nothing more and keep the connection open until the client
 * closes it. */
void fake_stall(fake_engine *f);
/* Close the connection. */
void fake_close(fake_engine *f);

/* GET /_ping answered with Api-Version: version. */
void fake_ping(fake_engine *f, const char *version);

/* ---- running ---------------------------------------------------------- */

void fake_start(fake_engine *f);
/* Stop the engine, print each mismatch (and each step never reached) as a
 * TAP comment, free everything; return the number of mismatches. */
int fake_finish(fake_engine *f);

#endif
