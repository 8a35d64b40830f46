/* test_store.c - the SQLite state store: round trips, queries, the
 * conditional update, schema versions, file modes, locking and many
 * processes writing at once. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "lib/tap.h"
#include "store.h"

#define BASE_US INT64_C(1700000000000000)
#define MIN_US INT64_C(60000000)

static char *tmpdir;

static char *db_path(const char *name)
{
	return nx_xasprintf("%s/%s", tmpdir, name);
}

static void make_id(char out[NX_ID_LEN + 1], int group, int n)
{
	snprintf(out, NX_ID_LEN + 1, "t%02d%018d", group, n);
}

/* A record with every field set; tests clear what they want NULL. */
static void fill(nx_sandbox *sb, int group, int n, const char *user,
		 const char *tenant, const char *agent, const char *name,
		 int64_t created)
{
	memset(sb, 0, sizeof *sb);
	make_id(sb->sandbox_id, group, n);
	sb->name = nx_xstrdup(name);
	sb->user_id = nx_xstrdup(user);
	sb->agent_id = nx_xstrdup_or_null(agent);
	sb->tenant_id = nx_xstrdup(tenant);
	sb->provider = nx_xstrdup("docker");
	sb->template_id = nx_xstrdup("python");
	sb->handle = nx_xasprintf("container-%d-%d", group, n);
	sb->status = NX_STATUS_ACTIVE;
	sb->created_at = created;
	sb->last_active_at = created + 1;
	sb->paused_at = created + 2;
	sb->stopped_at = created + 3;
	sb->busy_until = created + 4;
	sb->ttl_minutes = 10;
	sb->provider_status = nx_xstrdup("running");
}

static bool same_text(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

/* NULL when a and b hold the same persisted fields, else the first that
 * differs. */
static const char *differs(const nx_sandbox *a, const nx_sandbox *b)
{
	if (strcmp(a->sandbox_id, b->sandbox_id) != 0)
		return "sandbox_id";
	if (!same_text(a->name, b->name))
		return "name";
	if (!same_text(a->user_id, b->user_id))
		return "user_id";
	if (!same_text(a->agent_id, b->agent_id))
		return "agent_id";
	if (!same_text(a->tenant_id, b->tenant_id))
		return "tenant_id";
	if (!same_text(a->provider, b->provider))
		return "provider";
	if (!same_text(a->template_id, b->template_id))
		return "template_id";
	if (!same_text(a->handle, b->handle))
		return "handle";
	if (a->status != b->status)
		return "status";
	if (a->created_at != b->created_at)
		return "created_at";
	if (a->last_active_at != b->last_active_at)
		return "last_active_at";
	if (a->paused_at != b->paused_at)
		return "paused_at";
	if (a->stopped_at != b->stopped_at)
		return "stopped_at";
	if (a->busy_until != b->busy_until)
		return "busy_until";
	if (a->ttl_minutes != b->ttl_minutes)
		return "ttl_minutes";
	if (!same_text(a->provider_status, b->provider_status))
		return "provider_status";
	return NULL;
}

/* The last character of every id, in order: "4132" for rows 4, 1, 3, 2. */
static const char *order_of(const nx_sandbox_array *list)
{
	static char buf[64];
	size_t i;

	for (i = 0; i < list->count && i < sizeof buf - 1; i++)
		buf[i] = list->items[i].sandbox_id[NX_ID_LEN - 1];
	buf[i] = '\0';
	return buf;
}

static bool one_line(const nx_error *err)
{
	return err->msg[0] && !strchr(err->msg, '\n');
}

/* ---- a second, raw connection, to look behind the store's back ------- */

static sqlite3 *raw_open(const char *path)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		printf("# cannot open %s: %s\n", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

static int raw_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK)
		printf("# %s: %s\n", sql, msg ? msg : "?");
	sqlite3_free(msg);
	return rc;
}

/* One text answer of sql, malloc'd, or NULL for SQL NULL or no row. */
static char *raw_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	char *out = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		out = nx_xstrdup((const char *)sqlite3_column_text(st, 0));
	else
		printf("# %s: %s\n", sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return out;
}

static void check_raw(const char *path, const char *sql, const char *want,
		      const char *name)
{
	sqlite3 *db = raw_open(path);
	cleanup_free char *got = db ? raw_text(db, sql) : NULL;

	is_str(got, want, name);
	sqlite3_close(db);
}

static int mode_of(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	return (int)(st.st_mode & 07777);
}

/* ---- tests --------------------------------------------------------------- */

static void test_modes(void)
{
	cleanup_free char *dir1 = db_path("m1");
	cleanup_free char *dir2 = db_path("m1/m2");
	cleanup_free char *path = db_path("m1/m2/nexus.db");
	cleanup_free char *wal = db_path("m1/m2/nexus.db-wal");
	cleanup_free char *shm = db_path("m1/m2/nexus.db-shm");
	nx_store *s = NULL;
	nx_error err = { 0 };
	nx_sandbox sb;
	mode_t old = umask(0);
	int rc;

	/* With no umask to help, the modes must come from the store. */
	rc = nx_store_open(path, &s, &err);
	umask(old);
	is_int(rc, 0, "open creates the database and its directories");
	if (rc < 0) {
		printf("# %s\n", err.msg);
		return;
	}
	is_int(mode_of(dir1), 0700, "new parent directory is 0700");
	is_int(mode_of(dir2), 0700, "new directory is 0700");
	is_int(mode_of(path), 0600, "database file is 0600");

	fill(&sb, 1, 1, "u", "t", NULL, "n", BASE_US);
	is_int(nx_store_insert(s, &sb, &err), 0, "insert into a new database");
	nx_sandbox_clear(&sb);
	is_int(mode_of(wal), 0600, "wal file is 0600");
	is_int(mode_of(shm), 0600, "shm file is 0600");
	check_raw(path, "PRAGMA journal_mode", "wal", "journal mode is wal");
	check_raw(path, "PRAGMA user_version", "2", "schema version is 2");
	check_raw(path,
		  "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
		  " AND name IN ('sandboxes_by_user', 'sandboxes_by_tenant',"
		  " 'sandboxes_by_expiry')",
		  "3", "the three indexes exist");
	nx_store_close(s);
}

static void test_round_trip(void)
{
	cleanup_free char *path = db_path("trip.db");
	nx_store *s = NULL;
	nx_error err = { 0 };
	nx_sandbox full, bare, got;
	const char *diff;
	bool found = true;

	if (nx_store_open(path, &s, &err) < 0) {
		ok(0, "open trip.db: %s", err.msg);
		return;
	}
	fill(&full, 2, 1, "alice", "acme", "agent-7", "my box", BASE_US);
	full.status = NX_STATUS_STOPPED;
	full.ttl_minutes = 1440;
	full.verify_done = true;
	full.verified = true;
	is_int(nx_store_insert(s, &full, &err), 0, "insert with every field");

	fill(&bare, 2, 2, "bob", "default", NULL, "plain", BASE_US + 5);
	free(bare.template_id);
	free(bare.handle);
	free(bare.provider_status);
	bare.template_id = bare.handle = bare.provider_status = NULL;
	bare.paused_at = bare.stopped_at = bare.busy_until = 0;
	is_int(nx_store_insert(s, &bare, &err), 0, "insert with NULLs");

	is_int(nx_store_get(s, full.sandbox_id, &got, &found, &err), 0,
	       "get the full row");
	ok(found, "full row found");
	diff = differs(&got, &full);
	is_str(diff, NULL, "every field of the full row comes back");
	is_str(got.agent_id, "agent-7", "agent_id round trip");
	is_str(got.handle, "container-2-1", "handle round trip");
	is_int(got.status, NX_STATUS_STOPPED, "status round trip");
	is_int(got.busy_until, BASE_US + 4, "busy_until round trip");
	ok(!got.verify_done && !got.verified, "verify fields not persisted");
	nx_sandbox_clear(&got);

	is_int(nx_store_get(s, bare.sandbox_id, &got, &found, &err), 0,
	       "get the row with NULLs");
	ok(found, "row with NULLs found");
	diff = differs(&got, &bare);
	is_str(diff, NULL, "every field of the row with NULLs comes back");
	ok(!got.agent_id && !got.template_id && !got.handle &&
		   !got.provider_status,
	   "NULL texts come back NULL");
	ok(got.paused_at == 0 && got.stopped_at == 0 && got.busy_until == 0,
	   "NULL times come back 0");
	nx_sandbox_clear(&got);

	{
		cleanup_free char *sql = nx_xasprintf(
			"SELECT typeof(busy_until) || ',' || typeof(paused_at)"
			" || ',' || typeof(agent_id) || ',' || status"
			" FROM sandboxes WHERE sandbox_id = '%s'",
			bare.sandbox_id);

		check_raw(path, sql, "null,null,null,active",
			  "0 times and NULL texts are stored as NULL");
	}

	is_int(nx_store_get(s, "t99000000000000000000", &got, &found, &err), 0,
	       "get a missing id succeeds");
	ok(!found, "missing id not found");

	/* duplicate id: refused, the first row stays */
	free(bare.name);
	bare.name = nx_xstrdup("impostor");
	is_int(nx_store_insert(s, &bare, &err), -1, "duplicate id refused");
	is_int(err.kind, NX_E_STORE, "duplicate id: kind store");
	{
		cleanup_free char *want = nx_xasprintf(
			"cannot add sandbox '%s' to the state database '%s': "
			"the id is already in use", bare.sandbox_id, path);

		is_str(err.msg, want, "duplicate id: message");
	}
	nx_store_get(s, bare.sandbox_id, &got, &found, &err);
	is_str(got.name, "plain", "duplicate id: first row unchanged");
	nx_sandbox_clear(&got);

	/* what could not be read back is not written */
	free(bare.name);
	bare.name = NULL;
	make_id(bare.sandbox_id, 2, 3);
	is_int(nx_store_insert(s, &bare, &err), -1, "row without name refused");
	ok(one_line(&err) && strstr(err.msg, "bad name"),
	   "row without name: message '%s'", err.msg);

	/* reopen: the rows are on disk */
	nx_store_close(s);
	s = NULL;
	if (nx_store_open(path, &s, &err) < 0) {
		ok(0, "reopen trip.db: %s", err.msg);
	} else {
		nx_store_get(s, full.sandbox_id, &got, &found, &err);
		ok(found, "reopen: row found");
		diff = found ? differs(&got, &full) : "not found";
		is_str(diff, NULL, "reopen: every field persisted");
		nx_sandbox_clear(&got);
	}
	nx_store_close(s);
	nx_sandbox_clear(&full);
	nx_sandbox_clear(&bare);
}

static void insert_row(nx_store *s, int n, const char *user,
		       const char *tenant, const char *agent, const char *name,
		       int64_t created)
{
	nx_error err = { 0 };
	nx_sandbox sb;

	fill(&sb, 3, n, user, tenant, agent, name, created);
	if (nx_store_insert(s, &sb, &err) < 0)
		printf("# insert row %d: %s\n", n, err.msg);
	nx_sandbox_clear(&sb);
}

static void check_list(nx_store *s, const char *user, const char *agent,
		       const char *tenant, const char *want, const char *name)
{
	nx_store_filter f = { .user_id = user, .agent_id = agent,
			      .tenant_id = tenant };
	nx_sandbox_array list = { 0 };
	nx_error err = { 0 };

	if (nx_store_list(s, &f, &list, &err) < 0)
		printf("# %s\n", err.msg);
	is_str(order_of(&list), want, name);
	nx_sandbox_array_clear(&list);
}

static void check_name(nx_store *s, const char *user, const char *tenant,
		       const char *name, const char *want, const char *what)
{
	nx_sandbox_array list = { 0 };
	nx_error err = { 0 };

	if (nx_store_find_by_name(s, user, tenant, name, &list, &err) < 0)
		printf("# %s\n", err.msg);
	is_str(order_of(&list), want, what);
	nx_sandbox_array_clear(&list);
}

static void test_queries(void)
{
	cleanup_free char *path = db_path("list.db");
	nx_sandbox_array list = { 0 };
	nx_store *s = NULL;
	nx_error err = { 0 };

	if (nx_store_open(path, &s, &err) < 0) {
		ok(0, "open list.db: %s", err.msg);
		return;
	}
	/* not in creation order, so the order must come from the query */
	insert_row(s, 5, "alice", "t1", "a2", "db", 200);
	insert_row(s, 3, "alice", "t2", "a1", "web", 150);
	insert_row(s, 6, "alice", "t1", NULL, "web", 200);
	insert_row(s, 1, "alice", "t1", "a1", "web", 100);
	insert_row(s, 4, "bob", "t1", "a1", "web", 50);
	insert_row(s, 2, "alice", "t1", NULL, "web", 200);

	check_list(s, NULL, NULL, NULL, "413256", "list all, oldest first");
	is_int(nx_store_list(s, NULL, &list, &err), 0, "list without filter");
	is_str(order_of(&list), "413256", "NULL filter lists all");
	nx_sandbox_array_clear(&list);
	check_list(s, "alice", NULL, NULL, "13256", "list by user");
	check_list(s, NULL, "a1", NULL, "413", "list by agent");
	check_list(s, NULL, NULL, "t1", "41256", "list by tenant");
	check_list(s, "alice", "a1", NULL, "13", "list by user and agent");
	check_list(s, "alice", NULL, "t1", "1256", "list by user and tenant");
	check_list(s, NULL, "a1", "t1", "41", "list by agent and tenant");
	check_list(s, "alice", "a1", "t1", "1", "list by all three");
	check_list(s, "carol", NULL, NULL, "", "list for an unknown user");

	check_name(s, "alice", "t1", "web", "621",
		   "find by name: newest first, ties by id");
	check_name(s, "alice", "t2", "web", "3", "find by name: per tenant");
	check_name(s, "bob", "t1", "web", "4", "find by name: per user");
	check_name(s, "alice", "t1", "WEB", "", "find by name: exact match");
	check_name(s, "alice", "t1", "nope", "", "find by name: no match");
	nx_store_close(s);
}

static void expiry_row(nx_store *s, int n, nx_status status, int ttl,
		       int64_t last_active, int64_t busy_until)
{
	nx_error err = { 0 };
	nx_sandbox sb;

	fill(&sb, 4, n, "u", "t", NULL, "e", BASE_US + n);
	sb.status = status;
	sb.ttl_minutes = ttl;
	sb.last_active_at = last_active;
	sb.busy_until = busy_until;
	if (nx_store_insert(s, &sb, &err) < 0)
		printf("# insert row %d: %s\n", n, err.msg);
	nx_sandbox_clear(&sb);
}

static void check_expired(nx_store *s, int64_t now, const char *want,
			  const char *name)
{
	nx_sandbox_array list = { 0 };
	nx_error err = { 0 };

	if (nx_store_list_expired(s, now, &list, &err) < 0)
		printf("# %s\n", err.msg);
	is_str(order_of(&list), want, name);
	nx_sandbox_array_clear(&list);
}

static void test_expiry(void)
{
	cleanup_free char *path = db_path("expiry.db");
	const int64_t t = BASE_US;
	nx_store *s = NULL;
	nx_error err = { 0 };

	if (nx_store_open(path, &s, &err) < 0) {
		ok(0, "open expiry.db: %s", err.msg);
		return;
	}
	expiry_row(s, 1, NX_STATUS_ACTIVE, 10, t, 0);               /* t+10m */
	expiry_row(s, 2, NX_STATUS_ACTIVE, 10, t, t + 15 * MIN_US); /* t+15m */
	expiry_row(s, 3, NX_STATUS_PAUSED, 1, t - 1000 * MIN_US, 0);
	expiry_row(s, 4, NX_STATUS_STOPPED, 1, t - 1000 * MIN_US, 0);
	expiry_row(s, 5, NX_STATUS_ACTIVE, 1, t, 0);                /* t+1m */
	expiry_row(s, 6, NX_STATUS_ACTIVE, 10, t, t + 1);           /* t+10m */

	check_expired(s, t, "", "nothing expired yet");
	check_expired(s, t + MIN_US - 1, "", "one microsecond before ttl");
	check_expired(s, t + MIN_US, "5", "at last_active + ttl: expired");
	check_expired(s, t + 10 * MIN_US - 1, "5",
		      "a busy_until already past does not shorten the ttl");
	check_expired(s, t + 10 * MIN_US, "156",
		      "busy_until holds expiry off past the ttl");
	check_expired(s, t + 15 * MIN_US - 1, "156",
		      "one microsecond before busy_until");
	check_expired(s, t + 15 * MIN_US, "1256", "at busy_until: expired");
	check_expired(s, t + 100000 * MIN_US, "1256",
		      "paused and stopped rows never expire");
	nx_store_close(s);
}

static void test_update(void)
{
	cleanup_free char *path = db_path("update.db");
	nx_store *s = NULL;
	nx_error err = { 0 };
	nx_sandbox sb, next, got;
	bool changed = true, found = false;
	const int64_t t = BASE_US + 7777;

	if (nx_store_open(path, &s, &err) < 0) {
		ok(0, "open update.db: %s", err.msg);
		return;
	}
	fill(&sb, 5, 1, "u", "t", "a", "box", BASE_US);
	sb.paused_at = sb.stopped_at = 0;
	nx_store_insert(s, &sb, &err);

	fill(&next, 5, 1, "other-user", "other-tenant", NULL, "renamed", 1);
	next.handle[0] = 'X';
	next.status = NX_STATUS_PAUSED;
	next.last_active_at = t;
	next.paused_at = t + 1;
	next.stopped_at = 0;
	next.busy_until = 0;
	free(next.provider_status);
	next.provider_status = nx_xstrdup("exited");

	is_int(nx_store_update(s, &next, NX_STATUS_PAUSED, &changed, &err), 0,
	       "update with the wrong expect succeeds");
	ok(!changed, "wrong expect: not changed");
	nx_store_get(s, sb.sandbox_id, &got, &found, &err);
	is_str(differs(&got, &sb), NULL, "wrong expect: row unchanged");
	nx_sandbox_clear(&got);

	changed = false;
	is_int(nx_store_update(s, &next, NX_STATUS_ACTIVE, &changed, &err), 0,
	       "update with the right expect succeeds");
	ok(changed, "right expect: changed");
	nx_store_get(s, sb.sandbox_id, &got, &found, &err);
	is_int(got.status, NX_STATUS_PAUSED, "update writes status");
	is_int(got.last_active_at, t, "update writes last_active_at");
	is_int(got.paused_at, t + 1, "update writes paused_at");
	is_int(got.stopped_at, 0, "update writes stopped_at");
	is_int(got.busy_until, 0, "update clears busy_until");
	is_str(got.provider_status, "exited", "update writes provider_status");
	is_str(got.name, "box", "update leaves name");
	is_str(got.handle, sb.handle, "update leaves handle");
	is_str(got.user_id, "u", "update leaves user_id");
	is_str(got.agent_id, "a", "update leaves agent_id");
	is_int(got.created_at, BASE_US, "update leaves created_at");
	nx_sandbox_clear(&got);

	is_int(nx_store_update(s, &next, NX_STATUS_ACTIVE, &changed, &err), 0,
	       "second update with a stale expect succeeds");
	ok(!changed, "stale expect: not changed");

	make_id(next.sandbox_id, 5, 2);
	changed = true;
	is_int(nx_store_update(s, &next, NX_STATUS_ACTIVE, &changed, &err), 0,
	       "update of a missing id succeeds");
	ok(!changed, "missing id: not changed");

	nx_sandbox_clear(&sb);
	nx_sandbox_clear(&next);
	nx_store_close(s);
}

static void test_newer_version(void)
{
	cleanup_free char *path = db_path("newer.db");
	cleanup_free char *want = NULL;
	nx_store *s = NULL;
	nx_error err = { 0 };
	sqlite3 *db;

	if (nx_store_open(path, &s, &err) < 0) {
		ok(0, "open newer.db: %s", err.msg);
		return;
	}
	nx_store_close(s);
	s = NULL;
	db = raw_open(path);
	raw_exec(db, "PRAGMA user_version = 3");
	sqlite3_close(db);

	is_int(nx_store_open(path, &s, &err), -1, "newer schema refused");
	ok(!s, "newer schema: no store");
	is_int(err.kind, NX_E_STORE, "newer schema: kind store");
	want = nx_xasprintf("the state database '%s' has schema version 3, "
			    "newer than this nexus knows (2); upgrade nexus",
			    path);
	is_str(err.msg, want, "newer schema: message names the file");
	check_raw(path, "PRAGMA user_version", "3",
		  "newer schema: file left alone");
}

static void test_not_a_database(void)
{
	cleanup_free char *path = db_path("garbage.db");
	cleanup_free char *want = NULL;
	char junk[4096];
	nx_store *s = NULL;
	nx_error err = { 0 };
	FILE *f;

	memset(junk, 'x', sizeof junk);
	f = fopen(path, "w");
	if (f) {
		fwrite(junk, 1, sizeof junk, f);
		fclose(f);
	}
	is_int(nx_store_open(path, &s, &err), -1, "garbage file refused");
	is_int(err.kind, NX_E_STORE, "garbage file: kind store");
	want = nx_xasprintf("the state database '%s' is corrupted or not a "
			    "database; move it aside or restore a backup",
			    path);
	is_str(err.msg, want, "garbage file: message");
}

/* Rows edited behind the store's back are errors, not crashes. */
static void test_tampered(void)
{
	static const struct {
		const char *sql;
		const char *want;
	} cases[] = {
		{ "UPDATE sandboxes SET status = 'bogus'", "bad status" },
		{ "UPDATE sandboxes SET status = 'Active'", "bad status" },
		{ "UPDATE sandboxes SET created_at = 'yesterday'",
		  "bad created_at" },
		{ "UPDATE sandboxes SET paused_at = 1.5", "bad paused_at" },
		{ "UPDATE sandboxes SET last_active_at = -5",
		  "bad last_active_at" },
		{ "UPDATE sandboxes SET ttl_minutes = 0", "bad ttl_minutes" },
		{ "UPDATE sandboxes SET ttl_minutes = 99999999999",
		  "bad ttl_minutes" },
		{ "UPDATE sandboxes SET name = x'6869'", "bad name" },
		{ "UPDATE sandboxes SET handle = x'00ff'", "bad handle" },
		{ "UPDATE sandboxes SET provider = CAST(x'610062' AS TEXT)",
		  "bad provider" },
		{ "UPDATE sandboxes SET agent_id = zeroblob(5000)",
		  "bad agent_id" },
		{ "UPDATE sandboxes"
		  " SET provider_status = printf('%.5000c', 'x')",
		  "bad provider_status" },
		{ "UPDATE sandboxes SET sandbox_id = 'BAD' || char(10) || 'id'",
		  "malformed sandbox_id" },
		{ "UPDATE sandboxes SET sandbox_id = 42",
		  "malformed sandbox_id" },
		{ "UPDATE sandboxes SET sandbox_id = upper(sandbox_id)",
		  "malformed sandbox_id" },
	};
	size_t i;

	for (i = 0; i < NX_ARRAY_LEN(cases); i++) {
		cleanup_free char *path = nx_xasprintf("%s/tamper%zu.db",
						       tmpdir, i);
		nx_sandbox_array list = { 0 };
		nx_store *s = NULL;
		nx_error err = { 0 };
		nx_sandbox sb, got;
		bool found = false;
		sqlite3 *db;
		int rc;

		if (nx_store_open(path, &s, &err) < 0) {
			ok(0, "open tamper.db: %s", err.msg);
			continue;
		}
		fill(&sb, 6, 1, "u", "t", "a", "n", BASE_US);
		nx_store_insert(s, &sb, &err);
		db = raw_open(path);
		raw_exec(db, "PRAGMA ignore_check_constraints = ON");
		raw_exec(db, cases[i].sql);
		sqlite3_close(db);

		rc = nx_store_list(s, NULL, &list, &err);
		is_int(rc, -1, cases[i].sql);
		ok(err.kind == NX_E_STORE && one_line(&err) &&
			   strstr(err.msg, cases[i].want) &&
			   strstr(err.msg, path),
		   "  message: %s", err.msg);
		ok(list.count == 0 && !list.items, "  list left empty");
		if (strstr(cases[i].want, "sandbox_id") == NULL) {
			rc = nx_store_get(s, sb.sandbox_id, &got, &found,
					  &err);
			ok(rc == -1 && !found && !got.name,
			   "  get refuses it too");
		}
		nx_sandbox_clear(&sb);
		nx_store_close(s);
	}
}

static void test_locked(void)
{
	cleanup_free char *path = db_path("locked.db");
	cleanup_free char *want = NULL;
	nx_store *s = NULL, *s2 = NULL;
	nx_error err = { 0 };
	nx_sandbox sb, got;
	bool found = false, changed = true;
	sqlite3 *db;
	int64_t start, waited;
	int rc;

	if (nx_store_open(path, &s, &err) < 0) {
		ok(0, "open locked.db: %s", err.msg);
		return;
	}
	fill(&sb, 7, 1, "u", "t", NULL, "n", BASE_US);
	nx_store_insert(s, &sb, &err);
	make_id(sb.sandbox_id, 7, 2);
	nx_store_set_busy_timeout(s, 300);

	db = raw_open(path);
	is_int(raw_exec(db, "BEGIN EXCLUSIVE"), SQLITE_OK,
	       "another connection holds the write lock");

	start = nx_monotonic_us();
	rc = nx_store_insert(s, &sb, &err);
	waited = nx_monotonic_us() - start;
	is_int(rc, -1, "insert while locked fails");
	is_int(err.kind, NX_E_STORE, "locked: kind store");
	want = nx_xasprintf("the state database '%s' is locked by another "
			    "process; try again", path);
	is_str(err.msg, want, "locked: message");
	ok(waited >= 200000 && waited < 5000000,
	   "locked: waited for the busy timeout (%lld ms)",
	   (long long)(waited / 1000));

	nx_error_clear(&err);
	rc = nx_store_update(s, &sb, NX_STATUS_ACTIVE, &changed, &err);
	ok(rc == -1 && !changed, "update while locked fails");
	is_str(err.msg, want, "update while locked: message");

	is_int(nx_store_get(s, "t07000000000000000001", &got, &found, &err), 0,
	       "reads go on while another process writes (wal)");
	ok(found, "the committed row is visible");
	nx_sandbox_clear(&got);
	/* Opening a current database must not write. */
	rc = nx_store_open(path, &s2, &err);
	is_int(rc, 0, "open while locked: no write at start-up");
	if (rc < 0)
		printf("# %s\n", err.msg);
	nx_store_close(s2);

	raw_exec(db, "COMMIT");
	sqlite3_close(db);
	is_int(nx_store_insert(s, &sb, &err), 0, "insert after unlock works");
	nx_sandbox_clear(&sb);
	nx_store_close(s);
}

/* Refused access: as a user who may not read the file. */
static void test_permission(void)
{
	cleanup_free char *dir = db_path("perm");
	cleanup_free char *path = db_path("perm/nexus.db");
	cleanup_free char *want = NULL;
	char msg[NX_ERROR_MAX] = "";
	nx_store *s = NULL;
	nx_error err = { 0 };
	int fds[2], status = 0;
	ssize_t n;
	pid_t pid;

	if (nx_store_open(path, &s, &err) < 0) {
		ok(0, "open perm/nexus.db: %s", err.msg);
		return;
	}
	nx_store_close(s);
	s = NULL;
	/* let another user through to the file, not into it */
	chmod(tmpdir, 0711);
	chmod(dir, 0777);
	if (geteuid() != 0)
		chmod(path, 0);
	if (pipe(fds) < 0)
		return;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		/* _exit skips the cleanup attributes: free for valgrind */
		free(steal_pointer(&dir));
		if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
			status = 2;
		else if (nx_store_open(path, &s, &err) == 0)
			status = 1;
		else if (write(fds[1], err.msg, strlen(err.msg)) < 0)
			status = 3;
		else
			status = err.kind == NX_E_STORE ? 0 : 4;
		nx_store_close(s);
		free(steal_pointer(&path));
		_exit(status);
	}
	close(fds[1]);
	n = read(fds[0], msg, sizeof msg - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	waitpid(pid, &status, 0);
	chmod(path, 0600);
	chmod(tmpdir, 0700);
	is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0,
	       "open without permission fails with kind store");
	want = nx_xasprintf("cannot open the state database '%s': permission "
			    "denied; check the owner and mode of the file and "
			    "its directory", path);
	is_str(msg, want, "permission denied: message");
}

#define WRITERS 8
#define ROWS 25

static void writer_row(nx_sandbox *sb, int w, int i)
{
	cleanup_free char *name = nx_xasprintf("w%d-r%d", w, i);
	cleanup_free char *agent = nx_xasprintf("agent-%d", w);

	fill(sb, 10 + w, i, "conc", "t", agent, name,
	     BASE_US + w * 1000 + i);
	sb->ttl_minutes = 5 + i;
	sb->paused_at = sb->stopped_at = 0;
	sb->busy_until = i % 2 ? sb->created_at + 7 : 0;
}

/* What the writer leaves behind after its update. */
static void writer_final(nx_sandbox *sb, int w, int i)
{
	writer_row(sb, w, i);
	sb->status = NX_STATUS_PAUSED;
	sb->last_active_at = sb->created_at + 500;
	sb->paused_at = sb->created_at + 1000;
	sb->busy_until = 0;
	free(sb->provider_status);
	sb->provider_status = nx_xasprintf("paused-%d-%d", w, i);
}

/* One child process: its own connection, 25 inserts, 25 updates. */
static int writer(const char *path, int w)
{
	nx_store *s = NULL;
	nx_error err = { 0 };
	nx_sandbox sb, next, got;
	bool changed, found;
	int i, errors = 0;

	if (nx_store_open(path, &s, &err) < 0) {
		fprintf(stderr, "# writer %d: %s\n", w, err.msg);
		return 1;
	}
	for (i = 0; i < ROWS; i++) {
		writer_row(&sb, w, i);
		if (nx_store_insert(s, &sb, &err) < 0) {
			fprintf(stderr, "# writer %d: %s\n", w, err.msg);
			errors++;
		}
		nx_sandbox_clear(&sb);
	}
	for (i = 0; i < ROWS; i++) {
		writer_final(&next, w, i);
		changed = false;
		if (nx_store_update(s, &next, NX_STATUS_ACTIVE, &changed,
				    &err) < 0 || !changed) {
			fprintf(stderr, "# writer %d update %d: %s\n", w, i,
				changed ? "" : err.msg);
			errors++;
		}
		if (nx_store_get(s, next.sandbox_id, &got, &found, &err) < 0 ||
		    !found || differs(&got, &next)) {
			fprintf(stderr,
				"# writer %d: row %d reads back wrong\n", w,
				i);
			errors++;
		}
		nx_sandbox_clear(&got);
		nx_sandbox_clear(&next);
	}
	nx_store_close(s);
	return errors > 100 ? 100 : errors;
}

static void test_concurrency(void)
{
	cleanup_free char *path = db_path("conc/nexus.db");
	nx_store_filter f = { .user_id = "conc" };
	nx_sandbox_array list = { 0 };
	nx_store *s = NULL;
	nx_error err = { 0 };
	pid_t pids[WRITERS];
	int gate[2], w, i, status, clean = 0, right = 0;
	char c;

	/* the database exists first, as with any command after the first */
	if (nx_store_open(path, &s, &err) < 0) {
		ok(0, "open conc/nexus.db: %s", err.msg);
		return;
	}
	nx_store_close(s);
	s = NULL;
	if (pipe(gate) < 0)
		return;
	fflush(stdout);
	fflush(stderr);
	for (w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		if (pids[w] == 0) {
			/* start together: wait for the gate to close */
			close(gate[1]);
			while (read(gate[0], &c, 1) < 0 && errno == EINTR)
				;
			close(gate[0]);
			status = writer(path, w);
			/* _exit skips the cleanup attributes: free for
			 * valgrind */
			free(steal_pointer(&path));
			_exit(status);
		}
	}
	close(gate[0]);
	close(gate[1]);
	for (w = 0; w < WRITERS; w++) {
		if (pids[w] > 0 && waitpid(pids[w], &status, 0) == pids[w] &&
		    WIFEXITED(status) && WEXITSTATUS(status) == 0)
			clean++;
	}
	is_int(clean, WRITERS, "every writer finished without an error");

	if (nx_store_open(path, &s, &err) < 0) {
		ok(0, "reopen conc/nexus.db: %s", err.msg);
		return;
	}
	is_int(nx_store_list(s, &f, &list, &err), 0, "list the written rows");
	is_int(list.count, WRITERS * ROWS, "all 200 rows are there");
	for (w = 0; w < WRITERS; w++) {
		for (i = 0; i < ROWS; i++) {
			nx_sandbox want, got;
			bool found = false;

			writer_final(&want, w, i);
			if (nx_store_get(s, want.sandbox_id, &got, &found,
					 &err) == 0 && found &&
			    !differs(&got, &want))
				right++;
			else
				printf("# row %d/%d: %s\n", w, i,
				       found ? differs(&got, &want) : err.msg);
			nx_sandbox_clear(&want);
			nx_sandbox_clear(&got);
		}
	}
	is_int(right, WRITERS * ROWS, "every row holds its final values");
	nx_sandbox_array_clear(&list);
	nx_store_close(s);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	return remove(path);
}

int main(void)
{
	char tmpl[] = "/tmp/nexus-test-store-XXXXXX";

	tmpdir = mkdtemp(tmpl);
	if (!tmpdir) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_modes();
	test_round_trip();
	test_queries();
	test_expiry();
	test_update();
	test_newer_version();
	test_not_a_database();
	test_tampered();
	test_locked();
	test_permission();
	test_concurrency();
	nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
