/* test_keys.c - API keys (keys.c, the store's api_keys table), reading
 * records back from JSON (record.c), and the schema migration that added
 * the keys: no Docker needed. */
#include <errno.h>
#include <ftw.h>
#include <json-c/json.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

#include "lib/tap.h"
#include "remote.h"
#include "store.h"

static char *tmpdir;

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static nx_engine *open_engine(const char *name)
{
	cleanup_free char *dir = nx_xasprintf("%s/%s", tmpdir, name);
	nx_engine_opts opts = { .data_dir = dir };
	nx_engine *e = NULL;
	nx_error err;

	if (nx_engine_open(&e, &opts, &err) < 0)
		printf("Bail out! engine: %s\n", err.msg);
	return e;
}

static void test_create_and_authenticate(void)
{
	nx_engine *e = open_engine("keys");
	nx_key_info k, who;
	nx_error err = { 0 };
	char *key = NULL, *wrong;
	int count = -1;

	is_int(nx_key_count(e, &count, &err), 0, "count on an empty store");
	is_int(count, 0, "no keys at first");
	is_int(nx_key_create(e, "alice", NULL, "bot", false, &key, &k, &err), 0,
	       "create a key");
	ok(key && strlen(key) == 81 && strncmp(key, "nxk_", 4) == 0 &&
	   strncmp(key + 4, k.key_id, NX_KEY_ID_LEN) == 0 && key[16] == '_',
	   "nxk_ID_SECRET, the id in the key");
	is_str(k.tenant_id, "default", "tenant defaults to default");
	is_int(nx_key_authenticate(e, key, &who, &err), 0, "the key authenticates");
	ok(!strcmp(who.user_id, "alice") && !strcmp(who.agent_id, "bot") &&
	   !who.admin && !who.revoked_at, "as its holder");
	nx_key_info_clear(&who);

	wrong = nx_xstrdup(key);
	wrong[80] = wrong[80] == '0' ? '1' : '0';
	is_int(nx_key_authenticate(e, wrong, &who, &err), -1, "one digit off is refused");
	ok(err.kind == NX_E_AUTH && !strcmp(err.msg, "invalid or revoked API key"),
	   "with the one message for every refusal");
	ok(!who.user_id, "and no identity");
	wrong[80] = 'G';
	is_int(nx_key_authenticate(e, wrong, &who, &err), -1, "a non-hex secret is refused");
	is_int(nx_key_authenticate(e, "nxk_short", &who, &err), -1, "a short key is refused");
	is_int(nx_key_authenticate(e, "", &who, &err), -1, "an empty key is refused");
	memcpy(wrong, "nxk_zzzzzzzzzzzz", 16);
	is_int(nx_key_authenticate(e, wrong, &who, &err), -1, "an unknown key id is refused");
	is_int(err.kind, NX_E_AUTH, "as auth");
	free(wrong);

	is_int(nx_key_revoke(e, k.key_id, &who, &err), 0, "revoke");
	ok(who.revoked_at > 0, "revoked_at is set");
	nx_key_info_clear(&who);
	is_int(nx_key_revoke(e, k.key_id, &who, &err), 0, "revoking again succeeds");
	nx_key_info_clear(&who);
	is_int(nx_key_authenticate(e, key, &who, &err), -1, "a revoked key is refused");
	is_int(nx_key_revoke(e, "nosuchkey123", &who, &err), -1, "revoking an unknown key fails");
	is_int(err.kind, NX_E_NOTFOUND, "as not found");
	is_int(nx_key_count(e, &count, &err), 0, "count");
	is_int(count, 1, "revoked keys still count");
	nx_key_info_clear(&k);
	free(key);
	nx_engine_close(e);
}

static void test_list_and_identity(void)
{
	nx_engine *e = open_engine("list");
	nx_key_info_array list = { 0 };
	nx_key_info k;
	nx_error err = { 0 };
	char *key = NULL;

	is_int(nx_key_create(e, "root", "acme", NULL, true, &key, &k, &err), 0,
	       "create an admin key");
	nx_key_info_clear(&k);
	free(key);
	is_int(nx_key_create(e, "bob", NULL, NULL, false, &key, &k, &err), 0,
	       "create another");
	nx_key_info_clear(&k);
	free(key);
	is_int(nx_key_list(e, &list, &err), 0, "list");
	ok(list.count == 2 && !strcmp(list.items[0].user_id, "root") &&
	   list.items[0].admin && !strcmp(list.items[0].tenant_id, "acme") &&
	   !strcmp(list.items[1].user_id, "bob") && !list.items[1].agent_id,
	   "oldest first, every field");
	nx_key_info_array_clear(&list);

	is_int(nx_key_create(e, NULL, NULL, NULL, false, &key, &k, &err), -1,
	       "a user is required");
	ok(err.kind == NX_E_USAGE && !key, "as a usage error, no key");
	is_int(nx_key_create(e, "a\nb", NULL, NULL, false, &key, &k, &err), -1,
	       "a user with a newline is refused");
	is_int(nx_key_create(e, "u", "", NULL, false, &key, &k, &err), -1,
	       "an empty tenant is refused");
	nx_engine_close(e);
}

/* A store made by the first schema gains the keys table, rows intact. */
static void test_migration(void)
{
	cleanup_free char *dir = nx_xasprintf("%s/old", tmpdir);
	cleanup_free char *path = nx_xasprintf("%s/nexus.db", dir);
	nx_engine_opts opts = { .data_dir = dir };
	nx_engine *e = NULL;
	nx_error err;
	sqlite3 *db;
	int count = -1;

	mkdir(dir, 0700);
	sqlite3_open(path, &db);
	sqlite3_exec(db,
		     "CREATE TABLE sandboxes (sandbox_id TEXT PRIMARY KEY NOT NULL,"
		     " name TEXT NOT NULL, user_id TEXT NOT NULL, agent_id TEXT,"
		     " tenant_id TEXT NOT NULL, provider TEXT NOT NULL,"
		     " template_id TEXT, handle TEXT, status TEXT NOT NULL,"
		     " created_at INTEGER NOT NULL, last_active_at INTEGER NOT NULL,"
		     " paused_at INTEGER, stopped_at INTEGER, busy_until INTEGER,"
		     " ttl_minutes INTEGER NOT NULL, provider_status TEXT);"
		     "PRAGMA user_version = 1;", NULL, NULL, NULL);
	sqlite3_close(db);
	is_int(nx_engine_open(&e, &opts, &err), 0, "a version 1 store opens");
	is_int(nx_key_count(e, &count, &err), 0, "and has the keys table");
	is_int(count, 0, "empty");
	nx_engine_close(e);
}

static json_object *parse(const char *text)
{
	return json_tokener_parse(text);
}

static void test_record_from_json(void)
{
	static const char full[] =
		"{\"sandbox_id\":\"abcdefghij0123456789k\",\"name\":\"n\","
		"\"user_id\":\"u\",\"agent_id\":null,\"tenant_id\":\"t\","
		"\"provider\":\"docker\",\"template_id\":null,\"status\":\"active\","
		"\"created_at\":\"2025-11-03T01:00:00\","
		"\"last_active_at\":\"2025-11-03T01:05:00\",\"paused_at\":null,"
		"\"stopped_at\":null,\"ttl_minutes\":10,"
		"\"expires_at\":\"2025-11-03T01:15:00\",\"uptime_seconds\":1.5}";
	static const char *const bad[] = {
		"{\"name\":\"n\",\"status\":\"active\"}",
		"{\"sandbox_id\":\"short\",\"name\":\"n\",\"status\":\"active\"}",
		"{\"sandbox_id\":\"abcdefghij0123456789k\",\"status\":\"active\"}",
		"{\"sandbox_id\":\"abcdefghij0123456789k\",\"name\":\"n\",\"status\":\"zombie\"}",
		"{\"sandbox_id\":\"abcdefghij0123456789k\",\"name\":\"n\",\"status\":\"active\",\"created_at\":\"2025-02-30T00:00:00\"}",
		"{\"sandbox_id\":\"abcdefghij0123456789k\",\"name\":\"n\",\"status\":\"active\",\"ttl_minutes\":0}",
		"{\"sandbox_id\":\"abcdefghij0123456789k\",\"name\":\"a\\nb\",\"status\":\"active\"}",
		"{\"sandbox_id\":\"abcdefghij0123456789k\",\"name\":7,\"status\":\"active\"}",
		"[]",
	};
	json_object *o = parse(full);
	nx_sandbox sb;
	nx_error err;
	char *again;
	size_t i;

	is_int(nx_sandbox_from_json(o, &sb, &err), 0, "a full record reads back");
	again = nx_json_sandbox(&sb, NX_SHAPE_FULL, sb.created_at + 1500000, false);
	is_str(again, full, "and writes out the same");
	free(again);
	nx_sandbox_clear(&sb);
	json_object_put(o);

	o = parse("{\"sandbox_id\":\"abcdefghij0123456789k\",\"name\":\"n\","
		  "\"status\":\"active\",\"paused_at\":null,"
		  "\"expires_at\":\"2025-11-03T01:20:00\"}");
	is_int(nx_sandbox_from_json(o, &sb, &err), 0, "a resume record reads back");
	again = nx_json_sandbox(&sb, NX_SHAPE_PAUSE, 0, false);
	is_str(again, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	       "its expires_at survives without a TTL");
	free(again);
	nx_sandbox_clear(&sb);
	json_object_put(o);

	for (i = 0; i < NX_ARRAY_LEN(bad); i++) {
		o = parse(bad[i]);
		ok(nx_sandbox_from_json(o, &sb, &err) == -1 &&
		   err.kind == NX_E_PROTOCOL && !sb.name,
		   "refused: %s", bad[i]);
		json_object_put(o);
	}
}

int main(void)
{
	char tmpl[] = "/tmp/nexus-test-keys-XXXXXX";

	tmpdir = mkdtemp(tmpl);
	if (!tmpdir) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_create_and_authenticate();
	test_list_and_identity();
	test_migration();
	test_record_from_json();
	nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
