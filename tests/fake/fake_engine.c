/* fake_engine.c - a scripted Docker Engine for unit tests (see
 * fake_engine.h).  One thread, one poll loop over the listening socket and
 * every connection; a request's actions run to completion before the next
 * request is looked at, which is all a scripted conversation needs. */
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fake/fake_engine.h"
#include "util.h"

/* How long an action waits for the client before calling it a mismatch. */
#define IO_TIMEOUT_MS 3000
#define HEAD_MAX (64u << 10)
#define MAX_CONNS 32
/* The pause after each piece of fake_send_split. */
#define SPLIT_PAUSE_US 1000

enum check_kind {
	CHECK_HEADER,
	CHECK_NO_HEADER,
	CHECK_JSON,
	CHECK_NO_JSON,
	CHECK_HAS,
	CHECK_BODY,
};

struct check {
	enum check_kind kind;
	char *a;
	char *b;
	size_t len;
};

enum action_kind {
	ACT_SEND,
	ACT_READ,
	ACT_QUIET,
	ACT_PAUSE,
	ACT_STALL,
	ACT_CLOSE,
};

struct action {
	enum action_kind kind;
	char *data;
	size_t len;
	size_t piece;
	int ms;
};

struct step {
	char *method;
	char *target;
	struct check *checks;
	size_t nchecks;
	struct action *actions;
	size_t nactions;
};

struct conn {
	int fd;
	char *buf;
	size_t len;
	size_t cap;
	bool stalled;
};

struct request {
	char *method;
	char *target;
	char *head;      /* request line and headers, NUL-terminated */
	char *body;
	size_t body_len;
};

struct fake_engine {
	char dir[64];
	char socket[96];
	int listen_fd;
	int wake[2];
	pthread_t thread;
	bool started;
	struct step *steps;
	size_t nsteps;
	size_t next;
	struct conn conns[MAX_CONNS];
	size_t nconns;
	char **mismatches;
	size_t nmismatches;
};

static void mismatch(fake_engine *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void mismatch(fake_engine *f, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	f->mismatches = nx_xrealloc(f->mismatches, (f->nmismatches + 1) *
							   sizeof(char *));
	f->mismatches[f->nmismatches++] = msg;
}

static void die(const char *what)
{
	fprintf(stderr, "fake engine: %s: %s\n", what, strerror(errno));
	abort();
}

/* ---- the script ---------------------------------------------------------- */

fake_engine *fake_new(void)
{
	fake_engine *f = nx_xcalloc(1, sizeof *f);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	snprintf(f->dir, sizeof f->dir, "/tmp/nx-fake-XXXXXX");
	if (!mkdtemp(f->dir))
		die("mkdtemp");
	snprintf(f->socket, sizeof f->socket, "%s/docker.sock", f->dir);
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", f->socket);
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->listen_fd < 0 ||
	    bind(f->listen_fd, (struct sockaddr *)&addr, sizeof addr) < 0 ||
	    listen(f->listen_fd, 16) < 0)
		die("listen");
	if (pipe(f->wake) < 0)
		die("pipe");
	return f;
}

const char *fake_socket(const fake_engine *f)
{
	return f->socket;
}

const char *fake_dir(const fake_engine *f)
{
	return f->dir;
}

static struct step *last_step(fake_engine *f)
{
	if (!f->nsteps) {
		fprintf(stderr, "fake engine: script call before fake_expect\n");
		abort();
	}
	return &f->steps[f->nsteps - 1];
}

static char *dup_bytes(const void *data, size_t len)
{
	char *p = nx_xmalloc(len + 1);

	memcpy(p, data, len);
	p[len] = '\0';
	return p;
}

static void add_check(fake_engine *f, enum check_kind kind, const char *a,
		      const void *b, size_t len)
{
	struct step *st = last_step(f);
	struct check *c;

	st->checks = nx_xrealloc(st->checks,
				 (st->nchecks + 1) * sizeof *st->checks);
	c = &st->checks[st->nchecks++];
	c->kind = kind;
	c->a = nx_xstrdup_or_null(a);
	c->b = b ? dup_bytes(b, len) : NULL;
	c->len = len;
}

static struct action *add_action(fake_engine *f, enum action_kind kind)
{
	struct step *st = last_step(f);
	struct action *a;

	st->actions = nx_xrealloc(st->actions,
				  (st->nactions + 1) * sizeof *st->actions);
	a = &st->actions[st->nactions++];
	memset(a, 0, sizeof *a);
	a->kind = kind;
	return a;
}

void fake_expect(fake_engine *f, const char *method, const char *target)
{
	struct step *st;

	f->steps = nx_xrealloc(f->steps, (f->nsteps + 1) * sizeof *f->steps);
	st = &f->steps[f->nsteps++];
	memset(st, 0, sizeof *st);
	st->method = nx_xstrdup(method);
	st->target = nx_xstrdup(target);
}

void fake_expect_header(fake_engine *f, const char *header)
{
	add_check(f, CHECK_HEADER, header, NULL, 0);
}

void fake_expect_no_header(fake_engine *f, const char *name)
{
	add_check(f, CHECK_NO_HEADER, name, NULL, 0);
}

void fake_expect_json(fake_engine *f, const char *key, const char *json)
{
	add_check(f, CHECK_JSON, key, json, strlen(json));
}

void fake_expect_no_json(fake_engine *f, const char *key)
{
	add_check(f, CHECK_NO_JSON, key, NULL, 0);
}

void fake_expect_body_has(fake_engine *f, const char *s)
{
	add_check(f, CHECK_HAS, s, NULL, 0);
}

void fake_expect_body(fake_engine *f, const void *data, size_t len)
{
	add_check(f, CHECK_BODY, NULL, data, len);
}

static const char *reason(int status)
{
	switch (status) {
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 409: return "Conflict";
	case 500: return "Internal Server Error";
	default: return "Status";
	}
}

static char *format_reply(int status, const char *headers, const void *body,
			  size_t len, size_t *out_len)
{
	char *head = nx_xasprintf("HTTP/1.1 %d %s\r\n%sContent-Length: %zu\r\n"
				  "\r\n", status, reason(status),
				  headers ? headers : "", len);
	size_t hlen = strlen(head);
	char *all = nx_xrealloc(head, hlen + len + 1);

	memcpy(all + hlen, body, len);
	all[hlen + len] = '\0';
	*out_len = hlen + len;
	return all;
}

void fake_reply_len(fake_engine *f, int status, const char *headers,
		    const void *body, size_t len)
{
	struct action *a = add_action(f, ACT_SEND);

	a->data = format_reply(status, headers, body, len, &a->len);
}

void fake_reply(fake_engine *f, int status, const char *headers,
		const char *body)
{
	fake_reply_len(f, status, headers, body ? body : "",
		       body ? strlen(body) : 0);
}

void fake_send_split(fake_engine *f, const void *data, size_t len,
		     size_t piece)
{
	struct action *a = add_action(f, ACT_SEND);

	a->data = dup_bytes(data, len);
	a->len = len;
	a->piece = piece;
}

void fake_send(fake_engine *f, const void *data, size_t len)
{
	fake_send_split(f, data, len, 0);
}

void fake_read(fake_engine *f, const void *data, size_t len)
{
	struct action *a = add_action(f, ACT_READ);

	a->data = dup_bytes(data, len);
	a->len = len;
}

void fake_expect_quiet(fake_engine *f, int ms)
{
	add_action(f, ACT_QUIET)->ms = ms;
}

void fake_pause(fake_engine *f, int ms)
{
	add_action(f, ACT_PAUSE)->ms = ms;
}

void fake_stall(fake_engine *f)
{
	add_action(f, ACT_STALL);
}

void fake_close(fake_engine *f)
{
	add_action(f, ACT_CLOSE);
}

void fake_ping(fake_engine *f, const char *version)
{
	char *headers = nx_xasprintf("Api-Version: %s\r\n"
				     "Content-Type: text/plain\r\n", version);

	fake_expect(f, "GET", "/_ping");
	fake_reply(f, 200, headers, "OK");
	free(headers);
}

/* ---- I/O ----------------------------------------------------------------- */

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int wait_for(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	do
		n = poll(&p, 1, ms);
	while (n < 0 && errno == EINTR);
	return n;
}

static int send_all(int fd, const char *data, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if (wait_for(fd, POLLOUT, IO_TIMEOUT_MS) <= 0)
			return -1;
		n = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

static void conn_append(struct conn *c, const char *data, size_t len)
{
	if (c->len + len + 1 > c->cap) {
		c->cap = (c->len + len + 1) * 2;
		c->buf = nx_xrealloc(c->buf, c->cap);
	}
	memcpy(c->buf + c->len, data, len);
	c->len += len;
	c->buf[c->len] = '\0';
}

static void conn_consume(struct conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
	if (c->buf)
		c->buf[c->len] = '\0';
}

/* ---- requests ------------------------------------------------------------ */

static void request_free(struct request *r)
{
	free(r->method);
	free(r->target);
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof *r);
}

/* The value of a header (a copy), or NULL. */
static char *header_value(const char *head, const char *name)
{
	size_t nlen = strlen(name);
	const char *line = strstr(head, "\r\n"), *end, *v;

	while (line && line[2]) {
		line += 2;
		end = strstr(line, "\r\n");
		if (!end)
			end = line + strlen(line);
		if ((size_t)(end - line) > nlen && line[nlen] == ':' &&
		    strncasecmp(line, name, nlen) == 0) {
			v = line + nlen + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			return nx_xstrndup(v, (size_t)(end - v));
		}
		if (!*end)
			break;
		line = end;
	}
	return NULL;
}

/* Undo chunked coding: bytes of p consumed, -1 while incomplete, -2 when
 * malformed; the body goes to *out. */
static long dechunk(const char *p, size_t len, char **out, size_t *out_len)
{
	size_t in = 0, n = 0;
	char *body = nx_xmalloc(len + 1), *end;
	unsigned long size;
	const char *nl;

	for (;;) {
		nl = memchr(p + in, '\n', len - in);
		if (!nl)
			goto incomplete;
		size = strtoul(p + in, &end, 16);
		if (end == p + in || (*end != '\r' && *end != ';')) {
			free(body);
			return -2;
		}
		in = (size_t)(nl - p) + 1;
		if (size == 0) {
			/* No trailers from our client: just the last CRLF. */
			if (len - in < 2)
				goto incomplete;
			if (p[in] != '\r' || p[in + 1] != '\n') {
				free(body);
				return -2;
			}
			body[n] = '\0';
			*out = body;
			*out_len = n;
			return (long)(in + 2);
		}
		if (len - in < size + 2)
			goto incomplete;
		if (p[in + size] != '\r' || p[in + size + 1] != '\n') {
			free(body);
			return -2;
		}
		memcpy(body + n, p + in, size);
		n += size;
		in += size + 2;
	}
incomplete:
	free(body);
	return -1;
}

/* 1 with a whole request taken off the connection's buffer, 0 when more
 * bytes are needed, -1 when it is not HTTP. */
static int parse_request(fake_engine *f, struct conn *c, struct request *r)
{
	char *end = c->buf ? strstr(c->buf, "\r\n\r\n") : NULL;
	char *sp1, *sp2, *te, *cl;
	size_t head_len, body_len = 0;
	long consumed;

	if (!end)
		return c->len > HEAD_MAX ? -1 : 0;
	head_len = (size_t)(end - c->buf) + 4;
	sp1 = memchr(c->buf, ' ', head_len);
	sp2 = sp1 ? memchr(sp1 + 1, ' ', head_len - (size_t)(sp1 + 1 - c->buf))
		  : NULL;
	if (!sp1 || !sp2 || strncmp(sp2, " HTTP/1.1\r\n", 11) != 0) {
		mismatch(f, "not an HTTP/1.1 request: %.60s", c->buf);
		return -1;
	}
	r->head = nx_xstrndup(c->buf, head_len - 2);
	te = header_value(r->head, "Transfer-Encoding");
	cl = header_value(r->head, "Content-Length");
	if (te && strcasecmp(te, "chunked") == 0) {
		consumed = dechunk(c->buf + head_len, c->len - head_len,
				   &r->body, &r->body_len);
		free(te);
		free(cl);
		if (consumed == -2) {
			mismatch(f, "malformed chunked body");
			request_free(r);
			return -1;
		}
		if (consumed == -1) {
			request_free(r);
			return 0;
		}
		body_len = (size_t)consumed;
	} else {
		body_len = cl ? strtoul(cl, NULL, 10) : 0;
		free(te);
		free(cl);
		if (c->len - head_len < body_len) {
			request_free(r);
			return 0;
		}
		r->body = dup_bytes(c->buf + head_len, body_len);
		r->body_len = body_len;
	}
	r->method = nx_xstrndup(c->buf, (size_t)(sp1 - c->buf));
	r->target = nx_xstrndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	conn_consume(c, head_len + body_len);
	return 1;
}

/* ---- checks and actions -------------------------------------------------- */

static void run_check(fake_engine *f, size_t n, const struct step *st,
		      const struct check *k, const struct request *r)
{
	json_object *body = NULL, *v = NULL, *want = NULL;
	const char *colon;
	char *name, *value;

	switch (k->kind) {
	case CHECK_HEADER:
		colon = strchr(k->a, ':');
		name = nx_xstrndup(k->a, (size_t)(colon - k->a));
		value = header_value(r->head, name);
		if (!value || strcmp(value, colon + 2) != 0)
			mismatch(f, "step %zu (%s %s): header %s is '%s', "
				 "want '%s'", n, st->method, st->target, name,
				 value ? value : "(absent)", colon + 2);
		free(name);
		free(value);
		break;
	case CHECK_NO_HEADER:
		value = header_value(r->head, k->a);
		if (value)
			mismatch(f, "step %zu (%s %s): unwanted header %s: %s",
				 n, st->method, st->target, k->a, value);
		free(value);
		break;
	case CHECK_JSON:
	case CHECK_NO_JSON:
		body = json_tokener_parse(r->body ? r->body : "");
		if (!json_object_is_type(body, json_type_object)) {
			mismatch(f, "step %zu (%s %s): body is not a JSON "
				 "object: %.200s", n, st->method, st->target,
				 r->body ? r->body : "");
		} else if (k->kind == CHECK_NO_JSON) {
			if (json_object_object_get_ex(body, k->a, NULL))
				mismatch(f, "step %zu (%s %s): unwanted body "
					 "member '%s'", n, st->method,
					 st->target, k->a);
		} else {
			want = json_tokener_parse(k->b);
			if (!json_object_object_get_ex(body, k->a, &v))
				mismatch(f, "step %zu (%s %s): body has no "
					 "'%s'", n, st->method, st->target,
					 k->a);
			else if (!json_object_equal(v, want))
				mismatch(f, "step %zu (%s %s): body '%s' is "
					 "%s, want %s", n, st->method,
					 st->target, k->a,
					 json_object_to_json_string(v), k->b);
		}
		json_object_put(want);
		json_object_put(body);
		break;
	case CHECK_HAS:
		if (!r->body || !strstr(r->body, k->a))
			mismatch(f, "step %zu (%s %s): body lacks '%s'", n,
				 st->method, st->target, k->a);
		break;
	case CHECK_BODY:
		if (r->body_len != k->len ||
		    memcmp(r->body, k->b, k->len) != 0)
			mismatch(f, "step %zu (%s %s): body differs (%zu "
				 "bytes, want %zu)", n, st->method, st->target,
				 r->body_len, k->len);
		break;
	}
}

/* Read exactly len bytes from the client, from what is buffered first. */
static void act_read(fake_engine *f, size_t n, struct conn *c,
		     const struct action *a)
{
	char *got = nx_xmalloc(a->len + 1);
	size_t have = c->len < a->len ? c->len : a->len, i;
	ssize_t r;

	memcpy(got, c->buf, have);
	conn_consume(c, have);
	while (have < a->len) {
		if (wait_for(c->fd, POLLIN, IO_TIMEOUT_MS) <= 0)
			break;
		r = recv(c->fd, got + have, a->len - have, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		have += (size_t)r;
	}
	for (i = 0; i < have && got[i] == a->data[i]; i++)
		;
	if (have < a->len)
		mismatch(f, "step %zu: got %zu of %zu bytes from the client",
			 n, have, a->len);
	else if (i < a->len)
		mismatch(f, "step %zu: the client's bytes differ at offset %zu",
			 n, i);
	free(got);
}

static void act_quiet(fake_engine *f, size_t n, struct conn *c,
		      const struct action *a)
{
	char b;

	if (c->len > 0 || (wait_for(c->fd, POLLIN, a->ms) > 0 &&
			   recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0))
		mismatch(f, "step %zu: the client sent bytes when it should "
			 "have waited", n);
}

/* Run a step's actions; false when the connection is done with. */
static bool run_actions(fake_engine *f, size_t n, const struct step *st,
			struct conn *c)
{
	const struct action *a;
	size_t i, off, piece;

	for (i = 0; i < st->nactions; i++) {
		a = &st->actions[i];
		switch (a->kind) {
		case ACT_SEND:
			piece = a->piece ? a->piece : a->len;
			for (off = 0; off < a->len; off += piece) {
				if (piece > a->len - off)
					piece = a->len - off;
				if (send_all(c->fd, a->data + off, piece) < 0) {
					mismatch(f, "step %zu (%s %s): the "
						 "client stopped reading", n,
						 st->method, st->target);
					return false;
				}
				if (a->piece)
					sleep_us(SPLIT_PAUSE_US);
			}
			break;
		case ACT_READ:
			act_read(f, n, c, a);
			break;
		case ACT_QUIET:
			act_quiet(f, n, c, a);
			break;
		case ACT_PAUSE:
			sleep_us((long)a->ms * 1000);
			break;
		case ACT_STALL:
			c->stalled = true;
			return true;
		case ACT_CLOSE:
			return false;
		}
	}
	return true;
}

static bool handle(fake_engine *f, struct conn *c, const struct request *r)
{
	static const char refusal[] =
		"{\"message\":\"fake engine: unexpected request\"}";
	const struct step *st;
	size_t n = f->next, i, len;
	char *reply;
	bool ok;

	if (n >= f->nsteps) {
		mismatch(f, "unexpected request %s %s", r->method, r->target);
		st = NULL;
	} else {
		st = &f->steps[f->next++];
		if (strcmp(st->method, r->method) != 0 ||
		    strcmp(st->target, r->target) != 0) {
			mismatch(f, "step %zu: got %s %s, want %s %s", n,
				 r->method, r->target, st->method, st->target);
			st = NULL;
		}
	}
	if (!st) {
		reply = format_reply(500, NULL, refusal, sizeof refusal - 1,
				     &len);
		ok = send_all(c->fd, reply, len) == 0;
		free(reply);
		return ok;
	}
	for (i = 0; i < st->nchecks; i++)
		run_check(f, n, st, &st->checks[i], r);
	return run_actions(f, n, st, c);
}

/* ---- the loop ------------------------------------------------------------ */

static void on_readable(fake_engine *f, struct conn *c)
{
	struct request r = { 0 };
	char buf[64 << 10];
	ssize_t n;
	int ret;

	n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	if (c->stalled)
		return;
	conn_append(c, buf, (size_t)n);
	while (c->fd >= 0 && !c->stalled &&
	       (ret = parse_request(f, c, &r)) != 0) {
		if (ret < 0 || !handle(f, c, &r))
			conn_close(c);
		request_free(&r);
	}
}

static void *serve(void *arg)
{
	fake_engine *f = arg;
	struct pollfd p[MAX_CONNS + 2];
	size_t i, j;
	int fd;

	for (;;) {
		p[0] = (struct pollfd){ .fd = f->wake[0], .events = POLLIN };
		p[1] = (struct pollfd){ .fd = f->listen_fd, .events = POLLIN };
		for (i = 0; i < f->nconns; i++)
			p[i + 2] = (struct pollfd){ .fd = f->conns[i].fd,
						    .events = POLLIN };
		if (poll(p, f->nconns + 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (p[0].revents)
			break;
		for (i = 0; i < f->nconns; i++)
			if (p[i + 2].revents)
				on_readable(f, &f->conns[i]);
		if (p[1].revents) {
			fd = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0 && f->nconns == MAX_CONNS) {
				mismatch(f, "too many connections");
				close(fd);
			} else if (fd >= 0) {
				memset(&f->conns[f->nconns], 0,
				       sizeof f->conns[0]);
				f->conns[f->nconns++].fd = fd;
			}
		}
		for (i = j = 0; i < f->nconns; i++)
			if (f->conns[i].fd >= 0)
				f->conns[j++] = f->conns[i];
		f->nconns = j;
	}
	for (i = 0; i < f->nconns; i++)
		conn_close(&f->conns[i]);
	f->nconns = 0;
	return NULL;
}

void fake_start(fake_engine *f)
{
	if (pthread_create(&f->thread, NULL, serve, f) != 0)
		die("pthread_create");
	f->started = true;
}

static void step_free(struct step *st)
{
	size_t i;

	for (i = 0; i < st->nchecks; i++) {
		free(st->checks[i].a);
		free(st->checks[i].b);
	}
	for (i = 0; i < st->nactions; i++)
		free(st->actions[i].data);
	free(st->checks);
	free(st->actions);
	free(st->method);
	free(st->target);
}

int fake_finish(fake_engine *f)
{
	int count;
	size_t i;

	if (f->started) {
		if (write(f->wake[1], "x", 1) != 1)
			die("write");
		pthread_join(f->thread, NULL);
	}
	for (i = f->next; i < f->nsteps; i++)
		mismatch(f, "step %zu never requested: %s %s", i,
			 f->steps[i].method, f->steps[i].target);
	for (i = 0; i < f->nmismatches; i++) {
		printf("# fake engine: %s\n", f->mismatches[i]);
		free(f->mismatches[i]);
	}
	fflush(stdout);
	count = (int)f->nmismatches;
	for (i = 0; i < f->nsteps; i++)
		step_free(&f->steps[i]);
	free(f->steps);
	free(f->mismatches);
	close(f->listen_fd);
	close(f->wake[0]);
	close(f->wake[1]);
	unlink(f->socket);
	rmdir(f->dir);
	free(f);
	return count;
}
