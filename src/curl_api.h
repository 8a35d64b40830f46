/* curl_api.h - libcurl, loaded by the first Engine API call that needs it.
 *
 * Linked the usual way, libcurl costs every nexus process about 11 ms
 * before main() on this class of machine: the dynamic loader maps and
 * relocates some thirty libraries it depends on (TLS, Kerberos, LDAP,
 * SSH, IDN), none of which a unix-socket client uses.  A run that goes
 * over the agent's socket, and list or status, make no Engine API call at
 * all, so the Docker client reaches libcurl through this table, filled
 * with dlopen() on first use (git keeps libcurl out of git itself, in
 * git-remote-http, for the same reason).  configure finds the soname the
 * build was linked against, so the library is the one pkg-config named. */
#ifndef NX_CURL_API_H
#define NX_CURL_API_H

#include <curl/curl.h>

#include "util.h"

typedef struct nx_curl_api {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *h);
	void (*easy_reset)(CURL *h);
	CURLcode (*easy_setopt)(CURL *h, CURLoption option, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode code);
	CURLcode (*easy_send)(CURL *h, const void *buf, size_t len, size_t *n);
	CURLcode (*easy_recv)(CURL *h, void *buf, size_t len, size_t *n);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
} nx_curl_api;

/* Valid once nx_curl_load has succeeded. */
NX_HIDDEN extern nx_curl_api nx_curl;

/* Load and initialise libcurl, once per process from any thread; it is
 * never unloaded.  Returns 0, or -1 with NX_E_SYSTEM in err. */
NX_HIDDEN int nx_curl_load(nx_error *err);

#endif
