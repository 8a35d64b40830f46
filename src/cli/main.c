/* main.c - nexus: dispatch to one command, print its error once. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "cli.h"

static const struct command {
	const char *group;
	const char *name;
	cli_handler run;
	const char *summary;
} commands[] = {
	{ "sandbox", "create", cmd_create, "create a new sandbox" },
	{ "sandbox", "run", cmd_run, "run Python, JavaScript or Bash code" },
	{ "sandbox", "list", cmd_list, "list sandboxes" },
	{ "sandbox", "status", cmd_status, "show a sandbox's status" },
	{ "sandbox", "pause", cmd_pause, "pause a sandbox" },
	{ "sandbox", "resume", cmd_resume, "resume a paused sandbox" },
	{ "sandbox", "stop", cmd_stop, "stop and destroy a sandbox" },
	{ "runtime", "build", cmd_runtime_build,
	  "build runtime images from a Debian mirror" },
	{ "runtime", "list", cmd_runtime_list, "list built runtime images" },
	{ "serve", NULL, cmd_serve, "serve the sandboxes over HTTP" },
	{ "admin", "key", cmd_admin_key,
	  "create, list and revoke API keys of nexus serve" },
};

/* "sandbox create", or "serve" for a command that is a group of its own. */
static const char *command_name(const struct command *cmd)
{
	static char buf[64];

	if (!cmd->name)
		return cmd->group;
	snprintf(buf, sizeof buf, "%s %s", cmd->group, cmd->name);
	return buf;
}

static void print_commands(FILE *out, const char *group)
{
	size_t i;

	for (i = 0; i < NX_ARRAY_LEN(commands); i++)
		if (!group || strcmp(commands[i].group, group) == 0)
			fprintf(out, "  nexus %-16s %s\n", command_name(&commands[i]),
				commands[i].summary);
}

static int usage(FILE *out, const char *group)
{
	fprintf(out, "Usage: nexus %s COMMAND [OPTIONS]\n\n",
		group ? group : "GROUP");
	fputs("Run untrusted code in hardened local sandboxes.\n\nCommands:\n",
	      out);
	print_commands(out, group);
	fputs("\nRun 'nexus GROUP COMMAND --help' for a command's options; "
	      "see nexus(1).\n", out);
	return out == stdout ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

static bool is_group(const char *name)
{
	size_t i;

	for (i = 0; i < NX_ARRAY_LEN(commands); i++)
		if (strcmp(commands[i].group, name) == 0)
			return true;
	return false;
}

static const struct command *find(const char *group, const char *name)
{
	size_t i;

	for (i = 0; i < NX_ARRAY_LEN(commands); i++)
		if (strcmp(commands[i].group, group) == 0 &&
		    (!commands[i].name || !name ||
		     strcmp(commands[i].name, name) == 0))
			return &commands[i];
	return NULL;
}

/* The exit status for an error: run keeps the program's own statuses
 * apart from nexus's (124 timeout, 125 nexus failed), like timeout(1) and
 * docker run. */
static int error_status(const struct command *cmd, const nx_error *err)
{
	if (cmd && cmd->run == cmd_run)
		return err->kind == NX_E_TIMEOUT ? CLI_EXIT_TIMEOUT :
						   CLI_EXIT_RUN_FAILED;
	return err->kind == NX_E_USAGE ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
}

static int dispatch(int argc, char **argv, const struct command **cmd_out,
		    nx_error *err)
{
	const struct command *cmd;
	cleanup_free char *name = NULL;
	cli c = { 0 };
	int status;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)
		return usage(argc < 2 ? stderr : stdout, NULL);
	if (strcmp(argv[1], "--version") == 0) {
		printf("nexus %s\n", PACKAGE_VERSION);
		return CLI_EXIT_OK;
	}
	if (!is_group(argv[1]))
		return nx_fail(err, NX_E_USAGE,
			       "unknown command '%s' (see 'nexus --help')",
			       argv[1]);
	/* A command that is a group of its own (serve) takes its options
	 * right after its name. */
	cmd = find(argv[1], NULL);
	if (cmd && cmd->name) {
		if (argc < 3 || strcmp(argv[2], "--help") == 0 ||
		    strcmp(argv[2], "-h") == 0)
			return usage(argc < 3 ? stderr : stdout, argv[1]);
		cmd = find(argv[1], argv[2]);
		if (!cmd)
			return nx_fail(err, NX_E_USAGE,
				       "unknown command '%s %s' (see 'nexus %s --help')",
				       argv[1], argv[2], argv[1]);
	}
	*cmd_out = cmd;
	name = nx_xasprintf("nexus %s", command_name(cmd));
	c.command = name;
	c.ctx.admin = true; /* local mode: the store is the user's own */
	nx_context_default(&c.ctx);
	optind = 0;
	status = cmd->name ? cmd->run(&c, argc - 2, argv + 2, err) :
			     cmd->run(&c, argc - 1, argv + 1, err);
	nx_engine_close(c.engine);
	return status;
}

int main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	nx_error err = { 0 };
	int status;

	/* A reader that goes away (nexus ... | head) is not an error. */
	signal(SIGPIPE, SIG_IGN);
	status = dispatch(argc, argv, &cmd, &err);
	if (fflush(stdout) != 0 && errno != EPIPE && status == 0) {
		fprintf(stderr, "Error: cannot write output: %s\n",
			strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	if (status >= 0)
		return status;
	fprintf(stderr, "Error: %s\n", err.msg);
	return error_status(cmd, &err);
}
