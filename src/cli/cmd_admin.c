/* cmd_admin.c - nexus admin key create|list|revoke: the API keys of
 * nexus serve, in this machine's state database. */
#include <string.h>

#include "cli.h"

static const char usage[] =
	"Usage: nexus admin key create --user USER [--tenant TENANT]\n"
	"                              [--agent AGENT] [--admin] [--json]\n"
	"       nexus admin key list [--json]\n"
	"       nexus admin key revoke KEY-ID [--json]\n"
	"\n"
	"Manage the API keys of 'nexus serve'.  create prints the new key on\n"
	"standard output, once: only its SHA-256 is kept.\n"
	"\n"
	"  -u, --user USER        the user the key acts as\n"
	"  -t, --tenant TENANT    the key's tenant (default: default)\n"
	"  -a, --agent AGENT      the agent recorded on sandboxes it creates\n"
	"      --admin            the key may see and list every sandbox\n"
	"  -j, --json             print JSON\n"
	"  -h, --help             show this help\n";

enum { OPT_ADMIN = 256 };

static json_object *key_object(const nx_key_info *k, const char *key)
{
	json_object *o = json_object_new_object();
	char t[NX_TIME_LEN];

	if (key)
		json_object_object_add(o, "key", json_object_new_string(key));
	json_object_object_add(o, "key_id", json_object_new_string(k->key_id));
	json_object_object_add(o, "user_id", json_object_new_string(k->user_id));
	json_object_object_add(o, "tenant_id",
			       json_object_new_string(k->tenant_id));
	json_object_object_add(o, "agent_id", k->agent_id ?
			       json_object_new_string(k->agent_id) : NULL);
	json_object_object_add(o, "admin", json_object_new_boolean(k->admin));
	nx_format_time(k->created_at, t);
	json_object_object_add(o, "created_at", json_object_new_string(t));
	if (k->revoked_at)
		nx_format_time(k->revoked_at, t);
	json_object_object_add(o, "revoked_at", k->revoked_at ?
			       json_object_new_string(t) : NULL);
	return o;
}

static void print_object(json_object *o)
{
	cli_print_json(json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static int key_create(cli *c, int argc, char **argv, nx_error *err)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "tenant", required_argument, NULL, 't' },
		{ "agent", required_argument, NULL, 'a' },
		{ "admin", no_argument, NULL, OPT_ADMIN },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *user = NULL, *tenant = NULL, *agent = NULL;
	cleanup_free char *key = NULL;
	bool admin = false, json = false;
	nx_key_info k;
	nx_engine *e;
	int opt;

	while ((opt = cli_getopt(c, argc, argv, ":u:t:a:jh", longopts, err)) != -1) {
		if (opt == 'u')
			user = optarg;
		else if (opt == 't')
			tenant = optarg;
		else if (opt == 'a')
			agent = optarg;
		else if (opt == OPT_ADMIN)
			admin = true;
		else if (opt == 'j')
			json = true;
		else if (opt == 'h')
			return CLI_EXIT_OK;
		else
			return -1;
	}
	if (!user)
		return nx_fail(err, NX_E_USAGE, "--user is required (see '%s --help')",
			       c->command);
	if (cli_no_operands(c, argc, argv, err) < 0 ||
	    cli_local_engine(c, &e, err) < 0 ||
	    nx_key_create(e, user, tenant, agent, admin, &key, &k, err) < 0)
		return -1;
	if (json) {
		print_object(key_object(&k, key));
	} else {
		printf("%s\n", key);
		fprintf(stderr, "Created key %s for user %s (tenant %s%s); it "
			"is shown only now\n", k.key_id, k.user_id, k.tenant_id,
			k.admin ? ", admin" : "");
	}
	nx_key_info_clear(&k);
	return CLI_EXIT_OK;
}

static int key_list(cli *c, int argc, char **argv, nx_error *err)
{
	nx_key_info_array keys = { 0 };
	json_object *arr, *o;
	char created[NX_TIME_LEN], revoked[NX_TIME_LEN];
	bool json = false;
	nx_engine *e;
	size_t i;
	int opt;

	if ((opt = cli_json_option(c, argc, argv, &json, err)) != 0)
		return opt < 0 ? -1 : CLI_EXIT_OK;
	if (cli_no_operands(c, argc, argv, err) < 0 ||
	    cli_local_engine(c, &e, err) < 0 || nx_key_list(e, &keys, err) < 0)
		return -1;
	if (json) {
		o = json_object_new_object();
		arr = json_object_new_array();
		for (i = 0; i < keys.count; i++)
			json_object_array_add(arr, key_object(&keys.items[i], NULL));
		json_object_object_add(o, "keys", arr);
		print_object(o);
	} else if (keys.count == 0) {
		printf("No API keys.\n");
	} else {
		printf("%-12s  %-16s  %-12s  %-12s  %-5s  %-19s  %s\n", "KEY ID",
		       "USER", "TENANT", "AGENT", "ADMIN", "CREATED", "REVOKED");
		for (i = 0; i < keys.count; i++) {
			const nx_key_info *k = &keys.items[i];

			nx_format_time(k->created_at, created);
			if (k->revoked_at)
				nx_format_time(k->revoked_at, revoked);
			printf("%-12s  %-16s  %-12s  %-12s  %-5s  %-19s  %s\n",
			       k->key_id, k->user_id, k->tenant_id,
			       k->agent_id ? k->agent_id : "-",
			       k->admin ? "yes" : "no", created,
			       k->revoked_at ? revoked : "-");
		}
	}
	nx_key_info_array_clear(&keys);
	return CLI_EXIT_OK;
}

static int key_revoke(cli *c, int argc, char **argv, nx_error *err)
{
	bool json = false;
	const char *id;
	nx_key_info k;
	nx_engine *e;
	int opt;

	if ((opt = cli_json_option(c, argc, argv, &json, err)) != 0)
		return opt < 0 ? -1 : CLI_EXIT_OK;
	if (cli_one_operand(c, argc, argv, "key id", &id, err) < 0 ||
	    cli_local_engine(c, &e, err) < 0 || nx_key_revoke(e, id, &k, err) < 0)
		return -1;
	if (json)
		print_object(key_object(&k, NULL));
	else
		printf("Revoked key %s (user %s)\n", k.key_id, k.user_id);
	nx_key_info_clear(&k);
	return CLI_EXIT_OK;
}

int cmd_admin_key(cli *c, int argc, char **argv, nx_error *err)
{
	static const struct {
		const char *name;
		cli_handler run;
	} subs[] = {
		{ "create", key_create },
		{ "list", key_list },
		{ "revoke", key_revoke },
	};
	size_t i;

	c->usage = usage;
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	for (i = 0; i < NX_ARRAY_LEN(subs); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].run(c, argc - 1, argv + 1, err);
	return nx_fail(err, NX_E_USAGE,
		       "unknown command 'admin key %s' (see 'nexus admin key --help')",
		       argv[1]);
}
