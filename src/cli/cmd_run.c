/* cmd_run.c - nexus sandbox run SANDBOX (-c CODE | -c - | -f FILE) */
#include <string.h>

#include "cli.h"

/* Code larger than this is refused before anything is sent. */
#define MAX_CODE_BYTES (16u << 20)

static const char usage[] =
	"Usage: nexus sandbox run SANDBOX (--code CODE | --code - | --file PATH)\n"
	"                         [--language LANG] [--timeout SECONDS]\n"
	"                         [--max-output BYTES] [--json]\n"
	"\n"
	"Run code in a sandbox.  Output streams as the program writes it and\n"
	"nexus exits with the program's exit status.\n"
	"SANDBOX is a sandbox id or an unambiguous name.\n"
	"\n"
	"  -l, --language LANG    python, javascript or bash (default: python)\n"
	"  -c, --code CODE        the code to run; - reads it from standard input\n"
	"  -f, --file PATH        read the code from a file\n"
	"      --timeout SECONDS  end the run after this long (default: 30)\n"
	"      --max-output BYTES keep at most this much of each of stdout and\n"
	"                         stderr; past it the run is stopped (default:\n"
	"                         10485760)\n"
	"  -j, --json             print stdout, stderr, exit code and time as JSON\n"
	"  -h, --help             show this help\n";

/* Human mode: the program's bytes go straight through, unbuffered. */
static void stream_output(void *userdata, nx_stream stream, const char *data,
			  size_t len)
{
	(void)userdata;
	cli_write_all(stream == NX_STREAM_STDERR ? STDERR_FILENO : STDOUT_FILENO,
		      data, len);
}

typedef struct run_args {
	const char *code;
	const char *file;
	bool json;
	nx_run_opts opts;
} run_args;

static int parse_args(cli *c, int argc, char **argv, run_args *a,
		      nx_error *err)
{
	static const struct option longopts[] = {
		{ "language", required_argument, NULL, 'l' },
		{ "code", required_argument, NULL, 'c' },
		{ "file", required_argument, NULL, 'f' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "max-output", required_argument, NULL, 'M' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long n;
	int opt;

	a->opts.language = "python";
	a->opts.max_output = NX_DEFAULT_MAX_OUTPUT;
	while ((opt = cli_getopt(c, argc, argv, ":l:c:f:jh", longopts, err)) != -1) {
		switch (opt) {
		case 'l':
			a->opts.language = optarg;
			break;
		case 'c':
			a->code = optarg;
			break;
		case 'f':
			a->file = optarg;
			break;
		case 'T':
			if (cli_parse_number("--timeout", optarg, 1,
					     NX_MAX_TIMEOUT_SECONDS,
					     "seconds", &n, err) < 0)
				return -1;
			a->opts.timeout_seconds = (int)n;
			break;
		case 'M':
			if (cli_parse_number("--max-output", optarg, 1,
					     NX_MAX_MAX_OUTPUT, "bytes", &n,
					     err) < 0)
				return -1;
			a->opts.max_output = (size_t)n;
			break;
		case 'j':
			a->json = true;
			break;
		case 'h':
			return 'h';
		default:
			return -1;
		}
	}
	if (strcmp(a->opts.language, "python") != 0 &&
	    strcmp(a->opts.language, "javascript") != 0 &&
	    strcmp(a->opts.language, "bash") != 0)
		return nx_fail(err, NX_E_USAGE,
			       "unknown language '%s'; use python, javascript or bash",
			       a->opts.language);
	if (a->code && a->file)
		return nx_fail(err, NX_E_USAGE,
			       "use either --code or --file, not both");
	if (!a->code && !a->file)
		return nx_fail(err, NX_E_USAGE,
			       "no code given: use --code CODE, --code - (standard input) or --file PATH");
	return 0;
}

static int print_result(const nx_run_result *res, bool json)
{
	if (json) {
		cleanup_free char *text = nx_json_run_result(res, true);

		cli_print_json(text);
		return CLI_EXIT_OK;
	}
	return res->exit_code;
}

int cmd_run(cli *c, int argc, char **argv, nx_error *err)
{
	run_args a = { 0 };
	nx_run_result res = { 0 };
	cleanup_free char *code = NULL;
	nx_engine *engine;
	const char *ref;
	size_t code_len;
	int r;

	c->usage = usage;
	r = parse_args(c, argc, argv, &a, err);
	if (r == 'h')
		return CLI_EXIT_OK;
	if (r < 0 ||
	    cli_one_operand(c, argc, argv, "sandbox id or name", &ref, err) < 0)
		return -1;
	if (a.file || strcmp(a.code, "-") == 0) {
		if (nx_read_file(a.file ? a.file : "-", MAX_CODE_BYTES, &code,
				 &code_len, err) < 0)
			return -1;
	} else {
		code = nx_xstrdup(a.code);
		code_len = strlen(code);
	}
	a.opts.code = code;
	a.opts.code_len = code_len;
	if (!a.json)
		a.opts.on_output = stream_output;
	if (cli_engine(c, &engine, err) < 0)
		return -1;
	r = nx_sandbox_run(engine, &c->ctx, ref, &a.opts, &res, err);
	if (r == 0)
		r = print_result(&res, a.json);
	nx_run_result_clear(&res);
	return r;
}
