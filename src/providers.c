/* providers.c - which provider serves a sandbox: Docker, built in, or a
 * plugin loaded from the plugin directory the first time a sandbox of its
 * name needs it (see provider.h and nexus-provider.h). */
#include <dlfcn.h>
#include <string.h>
#include <unistd.h>

#include "paths.h"
#include "provider.h"

#define MAX_NAME_LEN 32

/* A plugin's name is also its file name: nothing that walks paths. */
static bool good_name(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > MAX_NAME_LEN)
		return false;
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '-' ||
		      name[i] == '_'))
			return false;
	return true;
}

static int check_abi(const nx_provider *p, const char *where, nx_error *err)
{
	if (p->abi_version != NX_PROVIDER_ABI_VERSION ||
	    p->struct_size < sizeof(nx_provider))
		return nx_fail(err, NX_E_PROVIDER,
			       "provider %s has ABI %u (size %u); this nexus needs ABI %u (size %zu): rebuild it",
			       where, p->abi_version, p->struct_size,
			       NX_PROVIDER_ABI_VERSION, sizeof(nx_provider));
	return 0;
}

/* dlopen NAME.so by absolute path and check it before any call. */
static int load_plugin(const char *name, const nx_provider **out, void **dl,
		       nx_error *err)
{
	cleanup_free char *path = nx_xasprintf("%s/%s.so", nx_plugin_dir(), name);
	nx_provider_plugin_fn entry;
	const nx_provider *p;
	void *h;

	if (path[0] != '/')
		return nx_fail(err, NX_E_USAGE,
			       "NEXUS_PLUGIN_DIR must be an absolute path, not '%.200s'",
			       nx_plugin_dir());
	if (access(path, F_OK) < 0)
		return nx_fail(err, NX_E_UNSUPPORTED,
			       "provider '%s' is not installed (no %s); build nexus with it or set NEXUS_PLUGIN_DIR",
			       name, path);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return nx_fail(err, NX_E_PROVIDER,
			       "cannot load provider plugin %s: %s", path,
			       dlerror());
	/* POSIX's way from a data pointer to a function pointer. */
	*(void **)&entry = dlsym(h, NX_PROVIDER_PLUGIN_SYMBOL);
	if (!entry) {
		dlclose(h);
		return nx_fail(err, NX_E_PROVIDER,
			       "%s is not a nexus provider plugin (no %s)", path,
			       NX_PROVIDER_PLUGIN_SYMBOL);
	}
	p = entry();
	if (!p || check_abi(p, path, err) < 0) {
		if (!p)
			nx_fail(err, NX_E_PROVIDER, "%s gave no provider", path);
		dlclose(h);
		return -1;
	}
	if (!p->name || strcmp(p->name, name) != 0) {
		dlclose(h);
		return nx_fail(err, NX_E_PROVIDER,
			       "%s calls itself '%.32s', not '%s'", path,
			       p->name ? p->name : "(null)", name);
	}
	*out = p;
	*dl = h;
	return 0;
}

int nx_providers_get(nx_providers *ps, const char *name,
		     nx_provider_slot **out, nx_error *err)
{
	nx_provider_slot *s;
	size_t i;

	for (i = 0; i < ps->count; i++)
		if (strcmp(ps->slots[i].p->name, name) == 0) {
			*out = &ps->slots[i];
			return 0;
		}
	if (!good_name(name))
		return nx_fail(err, NX_E_USAGE,
			       "'%.40s' is not a provider name (letters, digits, '-' and '_')",
			       name);
	if (ps->count == NX_ARRAY_LEN(ps->slots))
		return nx_fail(err, NX_E_PROVIDER, "too many providers in use");
	s = &ps->slots[ps->count];
	memset(s, 0, sizeof *s);
	if (strcmp(name, nx_docker_provider.name) == 0) {
		s->p = &nx_docker_provider;
		if (check_abi(s->p, "docker", err) < 0)
			return -1;
	} else if (load_plugin(name, &s->p, &s->dl, err) < 0) {
		return -1;
	}
	if (s->p->open(&s->self, ps->data_dir, err) < 0) {
		if (s->dl)
			dlclose(s->dl);
		memset(s, 0, sizeof *s);
		return -1;
	}
	ps->count++;
	*out = s;
	return 0;
}

void nx_providers_close(nx_providers *ps)
{
	size_t i;

	for (i = 0; i < ps->count; i++) {
		ps->slots[i].p->close(ps->slots[i].self);
		if (ps->slots[i].dl)
			dlclose(ps->slots[i].dl);
	}
	ps->count = 0;
}
