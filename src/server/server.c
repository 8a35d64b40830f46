/* server.c - nexus serve: every sandbox operation as JSON over HTTP, on
 * libmicrohttpd (docs/api.md is the contract).
 *
 * One thread per connection (MHD_USE_THREAD_PER_CONNECTION): a run holds
 * its request for as long as the code runs, and a thread of its own keeps
 * it from holding anyone else's.  Each request opens its own engine (its
 * own SQLite connection and Docker client), so nothing in libnexus is
 * shared between threads; SQLite's locking and the engine's conditional
 * writes already make concurrent processes safe, and threads are no
 * different.  A reaper thread stops expired sandboxes every second.
 *
 * On SIGTERM or SIGINT the server stops accepting, waits for the requests
 * in flight (runs included) to finish and be recorded, then exits. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "../buf.h"
#include "api.h"
#include "server.h"

#define MAX_BODY (64u << 20)
#define CONNECTION_TIMEOUT_S 60
#define MAX_CONNECTIONS 256
#define REAP_INTERVAL_MS 1000

typedef struct server {
	struct MHD_Daemon *daemon;
	nx_context local;         /* who keyless requests act as */
	atomic_int in_flight;
	atomic_bool draining;     /* SIGTERM came: no new work */
	atomic_bool stopping;     /* the reaper may go */
	atomic_bool started;      /* the daemon runs: its messages are log */
	char start_problem[256];  /* libmicrohttpd's last word before that */
	pthread_t reaper;
} server;

/* One request: its body as it arrives. */
typedef struct request {
	nx_buf body;
	bool too_large;
	int64_t start_us;
} request;

static const char *query_value(void *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

static const char *header_value(void *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* The API's reply, unless the server is going: then only health. */
static nx_api_reply handle(server *srv, struct MHD_Connection *conn,
			   const char *method, const char *url,
			   const request *rq)
{
	const nx_api_request api = {
		.method = method,
		.url = url,
		.body = rq->body.data,
		.body_len = rq->body.len,
		.too_large = rq->too_large,
		.query = query_value,
		.header = header_value,
		.conn = conn,
	};
	const nx_engine_opts eo = { 0 };

	if (atomic_load(&srv->draining) && strcmp(url, "/v1/health") != 0)
		return nx_api_error(503, "unreachable",
				    "the nexus server is shutting down");
	return nx_api_handle(&api, &eo, &srv->local);
}

/* ---- libmicrohttpd glue ----------------------------------------------- */

static enum MHD_Result send_reply(struct MHD_Connection *conn,
				  nx_api_reply r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t len = strlen(r.json);

	/* A newline after the JSON, as the CLI prints it. */
	r.json = nx_xrealloc(r.json, len + 2);
	memcpy(r.json + len, "\n", 2);
	resp = MHD_create_response_from_buffer(len + 1, r.json,
					       MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(r.json);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/json");
	ret = MHD_queue_response(conn, r.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* One line per request: the path is decoded, so a %0A in it must not
 * start a forged line of its own. */
static void log_request(const char *method, const char *url, unsigned status,
			const request *rq)
{
	char safe_method[64], safe_url[1024];

	nx_escape_text(safe_method, sizeof safe_method, method);
	nx_escape_text(safe_url, sizeof safe_url, url);
	fprintf(stderr, "nexus serve: %s %s %u %.1f ms\n", safe_method,
		safe_url, status,
		(double)(nx_monotonic_us() - rq->start_us) / 1000.0);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_size, void **con_cls)
{
	server *srv = cls;
	request *rq = *con_cls;
	nx_api_reply r;

	(void)version;
	if (!rq) {
		rq = nx_xcalloc(1, sizeof *rq);
		nx_buf_init(&rq->body, MAX_BODY);
		rq->start_us = nx_monotonic_us();
		atomic_fetch_add(&srv->in_flight, 1);
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_size) {
		/* Past the limit the rest is read and dropped, so that the
		 * client gets the 413 instead of a reset. */
		if (nx_buf_append(&rq->body, upload_data, *upload_size) < 0)
			rq->too_large = true;
		*upload_size = 0;
		return MHD_YES;
	}
	r = handle(srv, conn, method, url, rq);
	log_request(method, url, r.status, rq);
	return send_reply(conn, r);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **con_cls, enum MHD_RequestTerminationCode why)
{
	server *srv = cls;
	request *rq = *con_cls;

	(void)conn;
	(void)why;
	if (!rq)
		return;
	nx_buf_free(&rq->body);
	free(rq);
	*con_cls = NULL;
	atomic_fetch_sub(&srv->in_flight, 1);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Expired sandboxes are stopped within a second or two, whether or not
 * anyone calls. */
static void *reaper_main(void *arg)
{
	server *srv = arg;
	nx_engine *engine = NULL;
	nx_error err = { 0 };

	while (!atomic_load(&srv->stopping)) {
		if (!engine && nx_engine_open(&engine, NULL, &err) < 0) {
			fprintf(stderr, "nexus serve: reaper: %s\n", err.msg);
		} else if (nx_engine_reap(engine, &err) < 0) {
			fprintf(stderr, "nexus serve: reaper: %s\n", err.msg);
			nx_engine_close(engine);
			engine = NULL;
		}
		sleep_ms(REAP_INTERVAL_MS);
	}
	nx_engine_close(engine);
	return NULL;
}

/* ---- start and stop ----------------------------------------------------- */

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >>
			24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(
			&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return false;
}

static int resolve_host(const nx_server_opts *opts, struct addrinfo **out,
			nx_error *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE };
	char port[8];
	int rc;

	snprintf(port, sizeof port, "%d", opts->port);
	rc = getaddrinfo(opts->host, port, &hints, out);
	if (rc != 0)
		return nx_fail(err, NX_E_USAGE, "cannot use --host '%.200s': %s",
			       opts->host, gai_strerror(rc));
	return 0;
}

/* No keys and a non-loopback address would hand every sandbox, as admin,
 * to anyone who can reach the port. */
static int check_exposure(const nx_server_opts *opts,
			  const struct sockaddr *sa, nx_error *err)
{
	nx_engine *engine;
	int count;

	if (is_loopback(sa) || opts->insecure)
		return 0;
	if (nx_engine_open(&engine, NULL, err) < 0)
		return -1;
	if (nx_key_count(engine, &count, err) < 0) {
		nx_engine_close(engine);
		return -1;
	}
	nx_engine_close(engine);
	if (count == 0)
		return nx_fail(err, NX_E_USAGE,
			       "refusing to serve on %s with no API keys: anyone who reaches it would act as admin; create a key with 'nexus admin key create --user USER', or pass --insecure",
			       opts->host);
	return 0;
}

/* libmicrohttpd's messages: before the daemon runs, the reason it did
 * not start, kept for the one-line error; after, lines of the log. */
NX_PRINTF(2, 0)
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	server *srv = cls;
	char line[256], safe[256];

	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	nx_escape_text(safe, sizeof safe, line);
	if (!atomic_load(&srv->started))
		snprintf(srv->start_problem, sizeof srv->start_problem, "%s", safe);
	else
		fprintf(stderr, "nexus serve: %s\n", safe);
}

static int start(server *srv, const nx_server_opts *opts, nx_error *err)
{
	struct addrinfo *ai = NULL;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC |
			 MHD_USE_ERROR_LOG;

	if (resolve_host(opts, &ai, err) < 0)
		return -1;
	if (check_exposure(opts, ai->ai_addr, err) < 0) {
		freeaddrinfo(ai);
		return -1;
	}
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	srv->daemon = MHD_start_daemon(
		flags, (uint16_t)opts->port, NULL, NULL, on_request, srv,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,
		MHD_OPTION_SOCK_ADDR, ai->ai_addr,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!srv->daemon)
		return nx_fail(err, NX_E_SYSTEM, "cannot listen on %s port %d: %s",
			       opts->host, opts->port,
			       srv->start_problem[0] ? srv->start_problem :
			       "in use, or not an address of this machine?");
	atomic_store(&srv->started, true);
	return 0;
}

int nx_server_run(const nx_server_opts *opts, nx_error *err)
{
	server srv = { 0 };
	MHD_socket listener;
	sigset_t set;
	int sig;

	/* Blocked before any thread starts, so that every thread inherits
	 * the mask and the signals wait for sigwait below. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	srv.local.admin = true;
	nx_context_default(&srv.local);
	if (start(&srv, opts, err) < 0)
		return -1;
	if (pthread_create(&srv.reaper, NULL, reaper_main, &srv) != 0) {
		MHD_stop_daemon(srv.daemon);
		return nx_fail(err, NX_E_SYSTEM, "cannot start the reaper thread");
	}
	fprintf(stderr, "nexus serve: listening on %s port %d\n", opts->host,
		opts->port);
	while (sigwait(&set, &sig) != 0)
		;
	fprintf(stderr, "nexus serve: %s: finishing %d request(s) in flight\n",
		strsignal(sig), atomic_load(&srv.in_flight));
	atomic_store(&srv.draining, true);
	listener = MHD_quiesce_daemon(srv.daemon);
	while (atomic_load(&srv.in_flight) > 0)
		sleep_ms(20);
	MHD_stop_daemon(srv.daemon);
	if (listener != MHD_INVALID_SOCKET)
		close(listener);
	atomic_store(&srv.stopping, true);
	pthread_join(srv.reaper, NULL);
	fprintf(stderr, "nexus serve: stopped\n");
	return 0;
}
