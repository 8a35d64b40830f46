/* cmd_runtime.c - nexus runtime build [LANG...] | nexus runtime list */
#include <string.h>
#include <time.h>

#include "cli.h"
#include "../docker/docker.h"
#include "../runtime.h"

static const char build_usage[] =
	"Usage: nexus runtime build [LANG...] [--mirror URL] [--suite SUITE]\n"
	"\n"
	"Build runtime images from a Debian mirror (debootstrap, then import\n"
	"into the local Docker engine).  LANG is default, python, javascript or\n"
	"bash; without one, all four are built.  Needs root.\n"
	"\n"
	"      --mirror URL       Debian mirror (default: $NEXUS_DEBIAN_MIRROR or\n"
	"                         " NX_RUNTIME_DEFAULT_MIRROR ")\n"
	"      --suite SUITE      Debian suite (default: $NEXUS_DEBIAN_SUITE or\n"
	"                         " NX_RUNTIME_DEFAULT_SUITE ")\n"
	"  -h, --help             show this help\n";

static const char list_usage[] =
	"Usage: nexus runtime list [--json]\n"
	"\n"
	"Show which runtime images are built.\n"
	"\n"
	"  -j, --json             print the list as JSON\n"
	"  -h, --help             show this help\n";

/* Import progress is printed every this many bytes. */
#define PROGRESS_STEP (64u << 20)

typedef struct progress {
	uint64_t next_report;
	uint64_t bytes_sent;
} progress;

static void show_progress(void *userdata, const char *runtime,
			  const char *line, uint64_t bytes_sent)
{
	progress *p = userdata;

	if (line) {
		fprintf(stderr, "[%s] %s\n", runtime, line);
		return;
	}
	p->bytes_sent = bytes_sent;
	if (bytes_sent >= p->next_report) {
		fprintf(stderr, "[%s] importing into Docker: %llu MiB\n", runtime,
			(unsigned long long)(bytes_sent >> 20));
		p->next_report = bytes_sent + PROGRESS_STEP;
	}
}

static int check_names(int argc, char **argv, nx_error *err)
{
	int i;

	for (i = optind; i < argc; i++)
		if (!nx_runtime_is_builtin(argv[i]))
			return nx_fail(err, NX_E_USAGE,
				       "unknown runtime '%s'; use default, python, javascript or bash",
				       argv[i]);
	return 0;
}

static int build_one(nx_docker *d, const char *name,
		     nx_runtime_build_opts *opts, nx_error *err)
{
	progress p = { 0 };
	int64_t start = nx_monotonic_us();

	opts->userdata = &p;
	if (nx_runtime_build(d, name, opts, err) < 0)
		return -1;
	printf("Built %s:%s in %.0f s (%llu MiB imported)\n", NX_RUNTIME_REPO,
	       name, (double)(nx_monotonic_us() - start) / 1e6,
	       (unsigned long long)(p.bytes_sent >> 20));
	fflush(stdout);
	return 0;
}

int cmd_runtime_build(cli *c, int argc, char **argv, nx_error *err)
{
	static const struct option longopts[] = {
		{ "mirror", required_argument, NULL, 'm' },
		{ "suite", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	nx_runtime_build_opts opts = { .progress = show_progress };
	nx_docker *d = NULL;
	int opt, i, r = 0;

	c->usage = build_usage;
	while ((opt = cli_getopt(c, argc, argv, ":h", longopts, err)) != -1) {
		if (opt == 'm')
			opts.mirror = optarg;
		else if (opt == 's')
			opts.suite = optarg;
		else if (opt == 'h')
			return CLI_EXIT_OK;
		else
			return -1;
	}
	if (check_names(argc, argv, err) < 0 ||
	    nx_docker_new(NULL, &d, err) < 0 || nx_docker_ping(d, err) < 0) {
		nx_docker_free(d);
		return -1;
	}
	if (optind == argc) {
		for (i = 0; i < NX_RUNTIME_COUNT && r == 0; i++)
			r = build_one(d, nx_runtime_names[i], &opts, err);
	} else {
		for (i = optind; i < argc && r == 0; i++)
			r = build_one(d, argv[i], &opts, err);
	}
	nx_docker_free(d);
	return r < 0 ? -1 : CLI_EXIT_OK;
}

static void print_runtimes(const nx_runtime_info *list)
{
	char created[NX_TIME_LEN];
	int i;

	printf("%-10s  %-24s  %-5s  %8s  %s\n", "RUNTIME", "IMAGE", "BUILT",
	       "SIZE", "CREATED");
	for (i = 0; i < NX_RUNTIME_COUNT; i++) {
		const nx_runtime_info *r = &list[i];

		if (r->built)
			nx_format_time(r->created * 1000000, created);
		printf("%-10s  %-24s  %-5s  %7.0fM  %s\n", r->name, r->image,
		       r->built ? "yes" : "no", (double)r->size / (1 << 20),
		       r->built ? created : "-");
	}
}

int cmd_runtime_list(cli *c, int argc, char **argv, nx_error *err)
{
	nx_runtime_info list[NX_RUNTIME_COUNT];
	nx_docker *d = NULL;
	bool json = false;
	int opt, r;

	c->usage = list_usage;
	if ((opt = cli_json_option(c, argc, argv, &json, err)) != 0)
		return opt < 0 ? -1 : CLI_EXIT_OK;
	if (cli_no_operands(c, argc, argv, err) < 0 ||
	    nx_docker_new(NULL, &d, err) < 0)
		return -1;
	r = nx_runtime_list(d, list, err);
	nx_docker_free(d);
	if (r < 0)
		return -1;
	if (json) {
		cleanup_free char *text = nx_runtime_list_json(list, NX_RUNTIME_COUNT,
							       true);

		cli_print_json(text);
	} else {
		print_runtimes(list);
	}
	return CLI_EXIT_OK;
}
