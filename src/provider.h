/* provider.h - the providers as the engine sees them: the public plugin
 * interface, the built-in Docker provider, and the loader of plugins. */
#ifndef NX_PROVIDER_INTERNAL_H
#define NX_PROVIDER_INTERNAL_H

#include "nexus-provider.h"
#include "util.h"

NX_HIDDEN extern const nx_provider nx_docker_provider;

/* An open provider: its vtable, its instance, and the plugin's handle
 * (NULL for the built-in one). */
typedef struct nx_provider_slot {
	const nx_provider *p;
	void *self;
	void *dl;
} nx_provider_slot;

/* The providers an engine has open, by name, opened on first use. */
typedef struct nx_providers {
	const char *data_dir;
	nx_provider_slot slots[8];
	size_t count;
} nx_providers;

/* The provider called name, opening it (and loading its plugin) first
 * if need be.  A missing plugin is NX_E_UNSUPPORTED; an unloadable or
 * incompatible one NX_E_PROVIDER; either way nothing is called in it. */
NX_HIDDEN int nx_providers_get(nx_providers *ps, const char *name,
			       nx_provider_slot **out, nx_error *err);
NX_HIDDEN void nx_providers_close(nx_providers *ps);

#endif
