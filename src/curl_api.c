/* curl_api.c - libcurl through dlopen (see curl_api.h). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>

#include "curl_api.h"

nx_curl_api nx_curl;

/* Each entry: the symbol, and where its address goes. */
#define SYM(field, name) { name, (void **)&nx_curl.field }

static nx_error load_err;
static int load_rc = -1;

static void load_once(void)
{
	static const struct {
		const char *name;
		void **slot;
	} syms[] = {
		SYM(global_init, "curl_global_init"),
		SYM(easy_init, "curl_easy_init"),
		SYM(easy_cleanup, "curl_easy_cleanup"),
		SYM(easy_reset, "curl_easy_reset"),
		SYM(easy_setopt, "curl_easy_setopt"),
		SYM(easy_perform, "curl_easy_perform"),
		SYM(easy_getinfo, "curl_easy_getinfo"),
		SYM(easy_strerror, "curl_easy_strerror"),
		SYM(easy_send, "curl_easy_send"),
		SYM(easy_recv, "curl_easy_recv"),
		SYM(slist_append, "curl_slist_append"),
		SYM(slist_free_all, "curl_slist_free_all"),
	};
	nx_error *err = &load_err;
	void *lib;
	size_t i;

	/* Never closed: libcurl's TLS libraries do not survive unloading. */
	lib = dlopen(NX_LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		nx_fail(err, NX_E_SYSTEM,
			"cannot load libcurl (%s): %s; install it again",
			NX_LIBCURL_SONAME, dlerror());
		return;
	}
	for (i = 0; i < sizeof syms / sizeof syms[0]; i++) {
		/* POSIX's way from a data pointer to a function pointer. */
		*syms[i].slot = dlsym(lib, syms[i].name);
		if (!*syms[i].slot) {
			nx_fail(err, NX_E_SYSTEM,
				"libcurl (%s) has no %s: it is too old",
				NX_LIBCURL_SONAME, syms[i].name);
			return;
		}
	}
	/* Once per process, before any thread makes a handle (not thread
	 * safe in older libcurl); never cleaned up, like the library. */
	if (nx_curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		nx_fail(err, NX_E_SYSTEM, "cannot initialise libcurl");
		return;
	}
	load_rc = 0;
}

int nx_curl_load(nx_error *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, load_once);
	if (load_rc < 0)
		*err = load_err;
	return load_rc;
}
