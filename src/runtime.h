/* runtime.h - the runtime images sandboxes run on.
 *
 * nexus builds four images itself, from a Debian mirror with debootstrap
 * (runtimes/build-rootfs.sh), and imports them into Docker:
 * nexus-runtime:default (python, javascript and bash together),
 * nexus-runtime:python, nexus-runtime:javascript and nexus-runtime:bash.
 * A template id names one of them, or any local Docker image. */
#ifndef NX_RUNTIME_H
#define NX_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "docker/docker.h"
#include "util.h"

#define NX_RUNTIME_REPO "nexus-runtime"
#define NX_RUNTIME_DEFAULT "default"
#define NX_RUNTIME_COUNT 4
#define NX_RUNTIME_DEFAULT_MIRROR "http://deb.debian.org/debian"
/* The first Debian suite with Python >= 3.12 (the contract's 3.12). */
#define NX_RUNTIME_DEFAULT_SUITE "trixie"
/* The longest image reference accepted as a template (Docker's own cap on
 * a repository name). */
#define NX_IMAGE_REF_MAX 255

/* The built-in runtimes in the order nexus builds and lists them:
 * "default", "python", "javascript", "bash". */
NX_HIDDEN extern const char *const nx_runtime_names[NX_RUNTIME_COUNT];

/* True for the built-in names, and for NULL: no template means the
 * default runtime. */
NX_HIDDEN bool nx_runtime_is_builtin(const char *name);

/* The Docker image a template runs on: NULL or "default" gives
 * nexus-runtime:default, "python" nexus-runtime:python and so on; anything
 * else is taken as a local image reference and returned as it is when it is
 * well formed (nx_image_ref_valid), else NULL: the caller reports an invalid
 * template.  Built-in names win: a local image called "python" is reached
 * as "python:latest". */
NX_HIDDEN const char *nx_runtime_image_for(const char *template_id);
/* The same as a malloc'd copy in *image, or NX_E_USAGE naming the bad
 * template. */
NX_HIDDEN int nx_runtime_image(const char *template_id, char **image,
			       nx_error *err);

/* True when ref is a well-formed Docker image reference,
 * [HOST[:PORT]/]PATH[:TAG][@sha256:HEX] or sha256:HEX, at most
 * NX_IMAGE_REF_MAX bytes: nothing in it can reach a URL or a shell. */
NX_HIDDEN bool nx_image_ref_valid(const char *ref);

/* ---- building ---------------------------------------------------------- */

/* Progress of a build, on the caller's thread: a line the build script
 * printed (line != NULL, without its newline), or, while Docker imports the
 * image, the bytes sent so far (line == NULL). */
typedef void (*nx_runtime_progress_fn)(void *userdata, const char *runtime,
				       const char *line, uint64_t bytes_sent);

typedef struct nx_runtime_build_opts {
	const char *mirror;       /* NULL: $NEXUS_DEBIAN_MIRROR or the default */
	const char *suite;        /* NULL: $NEXUS_DEBIAN_SUITE or the default */
	const char *cache_dir;    /* NULL: the script's /var/cache/nexus/debs */
	const char *work_dir;     /* NULL: the script's, $TMPDIR or /var/tmp */
	const char *runtimes_dir; /* NULL: nx_runtimes_dir() */
	nx_runtime_progress_fn progress;  /* may be NULL */
	void *userdata;
} nx_runtime_build_opts;

/* Build the built-in runtime name (opts may be NULL): run build-rootfs.sh
 * and stream its tar output into Docker as nexus-runtime:NAME.  Needs root
 * (debootstrap).  A failed script fails the call with its last line in the
 * message (NX_E_USAGE when it refused its arguments). */
NX_HIDDEN int nx_runtime_build(nx_docker *d, const char *name,
			       const nx_runtime_build_opts *opts,
			       nx_error *err);

/* ---- listing ------------------------------------------------------------- */

typedef struct nx_runtime_info {
	const char *name;     /* "python" (static) */
	const char *image;    /* "nexus-runtime:python" (static) */
	bool built;
	int64_t size;         /* bytes; 0 when not built */
	int64_t created;      /* seconds since the epoch; 0 when not built */
} nx_runtime_info;

/* Every built-in runtime, in nx_runtime_names order, built or not. */
NX_HIDDEN int nx_runtime_list(nx_docker *d,
			      nx_runtime_info out[NX_RUNTIME_COUNT],
			      nx_error *err);

/* The list as JSON (nexus-runtime(1) shows the shape): a malloc'd text. */
NX_HIDDEN char *nx_runtime_list_json(const nx_runtime_info *list,
				     size_t count, bool pretty);

#endif
