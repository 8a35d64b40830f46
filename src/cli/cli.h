/* cli.h - the thin command-line layer: parse options, call the engine,
 * print.  No business logic lives here.  Handlers return an exit status,
 * or -1 with err filled; main prints the error, once. */
#ifndef NX_CLI_H
#define NX_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "../util.h"

/* Exit statuses (man nexus(1), EXIT STATUS). */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILURE = 1,   /* the operation failed */
	CLI_EXIT_USAGE = 2,     /* bad command line */
	CLI_EXIT_TIMEOUT = 124, /* run: the code ran past --timeout */
	CLI_EXIT_RUN_FAILED = 125, /* run: nexus could not run the code */
};

typedef struct cli {
	const char *command;    /* "nexus sandbox create", for messages */
	const char *usage;      /* the command's --help text */
	nx_engine *engine;      /* opened on first use */
	nx_context ctx;
} cli;

typedef int (*cli_handler)(cli *c, int argc, char **argv, nx_error *err);

/* ---- options.c ---- */
/* getopt_long with nexus's messages: returns the option, -1 at the end,
 * or '?' with err filled.  --help prints the usage and returns 'h'. */
int cli_getopt(cli *c, int argc, char **argv, const char *shortopts,
	       const struct option *longopts, nx_error *err);
/* Exactly one positional argument (the sandbox or name), after options. */
int cli_one_operand(cli *c, int argc, char **argv, const char *what,
		    const char **out, nx_error *err);
int cli_no_operands(cli *c, int argc, char **argv, nx_error *err);
/* A command whose only options are --json and --help: 0 to go on, 1
 * when --help was printed, -1 with err filled. */
int cli_json_option(cli *c, int argc, char **argv, bool *json,
		    nx_error *err);
int cli_parse_number(const char *option, const char *value, long min,
		     long max, const char *unit, long *out, nx_error *err);
/* The engine the sandbox commands use: the server at NEXUS_URL (with
 * NEXUS_API_KEY) when it is set, else this machine's. */
int cli_engine(cli *c, nx_engine **out, nx_error *err);
/* Always this machine's engine (admin commands, serve). */
int cli_local_engine(cli *c, nx_engine **out, nx_error *err);

/* pause, resume and stop: SANDBOX [--json], one engine call, one report. */
typedef int (*cli_action)(nx_engine *e, const nx_context *ctx,
			  const char *sandbox, nx_sandbox *out, nx_error *err);
int cli_simple_command(cli *c, int argc, char **argv, cli_action action,
		       nx_shape shape, const char *verb, nx_error *err);

/* ---- output.c ---- */
void cli_print_json(const char *text);
void cli_print_sandbox(const nx_sandbox *sb, int64_t now);
void cli_print_list(const nx_sandbox_array *list, bool verify, int64_t now);
/* Print a record in the given JSON shape, or a one-line human summary
 * "VERB sandbox NAME (ID)" followed by the detail lines of detail. */
int cli_report(const nx_sandbox *sb, nx_shape shape, bool json,
	       const char *verb);
/* Write all of buf to fd, retrying short writes; errors are ignored
 * (a closed pipe downstream is not nexus's failure). */
void cli_write_all(int fd, const char *buf, size_t len);

/* ---- commands ---- */
int cmd_create(cli *c, int argc, char **argv, nx_error *err);
int cmd_run(cli *c, int argc, char **argv, nx_error *err);
int cmd_list(cli *c, int argc, char **argv, nx_error *err);
int cmd_status(cli *c, int argc, char **argv, nx_error *err);
int cmd_pause(cli *c, int argc, char **argv, nx_error *err);
int cmd_resume(cli *c, int argc, char **argv, nx_error *err);
int cmd_stop(cli *c, int argc, char **argv, nx_error *err);
int cmd_runtime_build(cli *c, int argc, char **argv, nx_error *err);
int cmd_runtime_list(cli *c, int argc, char **argv, nx_error *err);
int cmd_serve(cli *c, int argc, char **argv, nx_error *err);
int cmd_admin_key(cli *c, int argc, char **argv, nx_error *err);

#endif
