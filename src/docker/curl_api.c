/* curl_api.c - libcurl through dlopen (see curl_api.h). */
#include <dlfcn.h>
#include <stdbool.h>

#include "curl_api.h"

nx_curl_api nx_curl;

/* Each entry: the symbol, and where its address goes. */
#define SYM(field, name) { name, (void **)&nx_curl.field }

int nx_curl_load(nx_error *err)
{
	static const struct {
		const char *name;
		void **slot;
	} syms[] = {
		SYM(global_init, "curl_global_init"),
		SYM(global_cleanup, "curl_global_cleanup"),
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
	static bool loaded;
	void *lib;
	size_t i;

	if (loaded)
		return 0;
	/* Never closed: libcurl's TLS libraries do not survive unloading. */
	lib = dlopen(NX_LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return nx_fail(err, NX_E_SYSTEM,
			       "cannot load libcurl (%s): %s; install it again",
			       NX_LIBCURL_SONAME, dlerror());
	for (i = 0; i < sizeof syms / sizeof syms[0]; i++) {
		/* POSIX's way from a data pointer to a function pointer. */
		*syms[i].slot = dlsym(lib, syms[i].name);
		if (!*syms[i].slot)
			return nx_fail(err, NX_E_SYSTEM,
				       "libcurl (%s) has no %s: it is too old",
				       NX_LIBCURL_SONAME, syms[i].name);
	}
	loaded = true;
	return 0;
}
