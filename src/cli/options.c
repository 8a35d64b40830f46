/* options.c - option parsing shared by every command. */
#include <string.h>

#include "cli.h"

static void print_usage(const cli *c)
{
	fputs(c->usage, stdout);
}

/* shortopts must start with ':' so that a missing value is told apart
 * from an unknown option. */
int cli_getopt(cli *c, int argc, char **argv, const char *shortopts,
	       const struct option *longopts, nx_error *err)
{
	int opt;

	opterr = 0;
	opt = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (opt == 'h') {
		print_usage(c);
		return 'h';
	}
	if (opt != '?' && opt != ':')
		return opt;
	nx_option_error(err, opt, argv[optind - 1], longopts, c->command);
	return '?';
}

int cli_one_operand(cli *c, int argc, char **argv, const char *what,
		    const char **out, nx_error *err)
{
	if (optind >= argc)
		return nx_fail(err, NX_E_USAGE, "missing %s (see '%s --help')",
			       what, c->command);
	if (optind + 1 < argc)
		return nx_fail(err, NX_E_USAGE,
			       "unexpected argument '%s' (see '%s --help')",
			       argv[optind + 1], c->command);
	*out = argv[optind];
	return 0;
}

int cli_no_operands(cli *c, int argc, char **argv, nx_error *err)
{
	if (optind < argc)
		return nx_fail(err, NX_E_USAGE,
			       "unexpected argument '%s' (see '%s --help')",
			       argv[optind], c->command);
	return 0;
}

int cli_parse_number(const char *option, const char *value, long min,
		     long max, const char *unit, long *out, nx_error *err)
{
	if (nx_parse_int(value, min, max, out) < 0)
		return nx_fail(err, NX_E_USAGE,
			       "%s must be a whole number of %s from %ld to %ld, not '%s'",
			       option, unit, min, max, value);
	return 0;
}

int cli_engine(cli *c, nx_engine **out, nx_error *err)
{
	nx_engine_opts opts = { .url = getenv("NEXUS_URL"),
				.api_key = getenv("NEXUS_API_KEY") };

	if (opts.url && !*opts.url)
		opts.url = NULL;
	if (opts.api_key && !*opts.api_key)
		opts.api_key = NULL;
	if (!c->engine && nx_engine_open(&c->engine, &opts, err) < 0)
		return -1;
	*out = c->engine;
	return 0;
}

int cli_local_engine(cli *c, nx_engine **out, nx_error *err)
{
	if (!c->engine && nx_engine_open(&c->engine, NULL, err) < 0)
		return -1;
	*out = c->engine;
	return 0;
}

int cli_json_option(cli *c, int argc, char **argv, bool *json,
		    nx_error *err)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*json = false;
	while ((opt = cli_getopt(c, argc, argv, ":jh", longopts, err)) != -1) {
		if (opt == 'j')
			*json = true;
		else if (opt == 'h')
			return 1;
		else
			return -1;
	}
	return 0;
}

int cli_simple_command(cli *c, int argc, char **argv, cli_action action,
		       nx_shape shape, const char *verb, nx_error *err)
{
	nx_sandbox sb = { 0 };
	nx_engine *engine;
	const char *ref;
	bool json = false;
	int opt, status;

	if ((opt = cli_json_option(c, argc, argv, &json, err)) != 0)
		return opt < 0 ? -1 : CLI_EXIT_OK;
	if (cli_one_operand(c, argc, argv, "sandbox id or name", &ref, err) < 0 ||
	    cli_engine(c, &engine, err) < 0 ||
	    action(engine, &c->ctx, ref, &sb, err) < 0)
		return -1;
	status = cli_report(&sb, shape, json, verb);
	nx_sandbox_clear(&sb);
	return status;
}
