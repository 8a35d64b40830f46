/* store_sqlite.c - the SQLite backend of the state store (store.h).
 *
 * One connection per process; the CLI opens the database on every
 * command, so opening does as little as it can: set per-connection
 * pragmas and read the schema version.  Migrations, and switching the
 * file to WAL (a property of the file, so done once), only happen when the
 * version is behind.
 *
 * Parallel CLI processes share the file: WAL lets readers go on while one
 * process writes, the busy timeout makes writers queue instead of fail,
 * and every write runs in BEGIN IMMEDIATE so it takes the write lock
 * before it reads anything (a deferred transaction that upgrades from
 * read to write can fail with SQLITE_BUSY without waiting). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "store.h"

#define BUSY_TIMEOUT_MS 10000

/* The longest text we write or accept back, per column: far more than any
 * name, id or provider status needs, and a bound on what a tampered row
 * can make us allocate. */
#define TEXT_MAX 4096

#define DAMAGED_HINT "move it aside or restore a backup"

/* ---- schema ------------------------------------------------------------- */

/* Applied in order, all in one transaction, from the file's user_version
 * up to the last.  Each ends by setting user_version to its own number, so
 * no SQL text is built at run time.  Only ever append to this table. */
static const struct migration {
	int version;
	const char *sql;
} migrations[] = {
	{ 1,
	  "CREATE TABLE sandboxes ("
	  " sandbox_id TEXT PRIMARY KEY NOT NULL,"
	  " name TEXT NOT NULL,"
	  " user_id TEXT NOT NULL,"
	  " agent_id TEXT,"
	  " tenant_id TEXT NOT NULL,"
	  " provider TEXT NOT NULL,"
	  " template_id TEXT,"
	  " handle TEXT,"
	  " status TEXT NOT NULL"
	  "  CHECK (status IN ('active', 'paused', 'stopped')),"
	  " created_at INTEGER NOT NULL,"
	  " last_active_at INTEGER NOT NULL,"
	  " paused_at INTEGER,"
	  " stopped_at INTEGER,"
	  " busy_until INTEGER,"
	  " ttl_minutes INTEGER NOT NULL CHECK (ttl_minutes > 0),"
	  " provider_status TEXT"
	  ");"
	  /* list by user (and tenant); find by name within user and
	   * tenant, already newest first */
	  "CREATE INDEX sandboxes_by_user"
	  " ON sandboxes (user_id, tenant_id, name, created_at);"
	  /* list by tenant alone (an admin's view), already in list order */
	  "CREATE INDEX sandboxes_by_tenant"
	  " ON sandboxes (tenant_id, created_at);"
	  /* expiry: the expression must match EXPIRES_AT below exactly for
	   * the planner to use the index */
	  "CREATE INDEX sandboxes_by_expiry ON sandboxes"
	  " (max(last_active_at + ttl_minutes * 60000000,"
	  " coalesce(busy_until, 0)))"
	  " WHERE status = 'active';"
	  "PRAGMA user_version = 1;" },
	{ 2,
	  /* API keys of nexus serve: the SHA-256 of each key, never the
	   * key; key_id is the key's public part, how it is named. */
	  "CREATE TABLE api_keys ("
	  " key_id TEXT PRIMARY KEY NOT NULL,"
	  " key_hash TEXT NOT NULL,"
	  " user_id TEXT NOT NULL,"
	  " tenant_id TEXT NOT NULL,"
	  " agent_id TEXT,"
	  " admin INTEGER NOT NULL CHECK (admin IN (0, 1)),"
	  " created_at INTEGER NOT NULL,"
	  " revoked_at INTEGER"
	  ");"
	  "PRAGMA user_version = 2;" },
};

#define SCHEMA_VERSION (migrations[NX_ARRAY_LEN(migrations) - 1].version)

#define COLUMNS                                                             \
	"sandbox_id, name, user_id, agent_id, tenant_id, provider,"         \
	" template_id, handle, status, created_at, last_active_at,"         \
	" paused_at, stopped_at, busy_until, ttl_minutes, provider_status"

enum column {
	COL_SANDBOX_ID,
	COL_NAME,
	COL_USER_ID,
	COL_AGENT_ID,
	COL_TENANT_ID,
	COL_PROVIDER,
	COL_TEMPLATE_ID,
	COL_HANDLE,
	COL_STATUS,
	COL_CREATED_AT,
	COL_LAST_ACTIVE_AT,
	COL_PAUSED_AT,
	COL_STOPPED_AT,
	COL_BUSY_UNTIL,
	COL_TTL_MINUTES,
	COL_PROVIDER_STATUS,
};

#define EXPIRES_AT                                                          \
	"max(last_active_at + ttl_minutes * 60000000, coalesce(busy_until, 0))"

#define SELECT_ALL "SELECT " COLUMNS " FROM sandboxes"
#define KEY_COLUMNS                                                         \
	"key_id, user_id, tenant_id, agent_id, admin, created_at, revoked_at"
#define OLDEST_FIRST " ORDER BY created_at, sandbox_id"

/* Every statement there is; prepared on first use and kept. */
enum stmt_id {
	ST_INSERT,
	ST_GET,
	ST_FIND_BY_NAME,
	ST_EXPIRED,
	ST_UPDATE,
	ST_KEY_INSERT,
	ST_KEY_GET,
	ST_KEY_LIST,
	ST_KEY_REVOKE,
	ST_KEY_COUNT,
	ST_LIST, /* eight of them, one per combination of filters */
	ST_COUNT = ST_LIST + 8,
};

#define LIST_USER 1
#define LIST_AGENT 2
#define LIST_TENANT 4

static const char *const stmt_sql[ST_COUNT] = {
	[ST_INSERT] = "INSERT INTO sandboxes (" COLUMNS ") VALUES"
		      " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
		      " ?13, ?14, ?15, ?16)",
	[ST_GET] = SELECT_ALL " WHERE sandbox_id = ?1",
	[ST_FIND_BY_NAME] = SELECT_ALL
		" WHERE user_id = ?1 AND tenant_id = ?2 AND name = ?3"
		" ORDER BY created_at DESC, sandbox_id DESC",
	[ST_EXPIRED] = SELECT_ALL " WHERE status = 'active' AND "
		EXPIRES_AT " <= ?1" OLDEST_FIRST,
	[ST_UPDATE] = "UPDATE sandboxes SET status = ?1, last_active_at = ?2,"
		      " paused_at = ?3, stopped_at = ?4, busy_until = ?5,"
		      " provider_status = ?6"
		      " WHERE sandbox_id = ?7 AND status = ?8",
	[ST_KEY_INSERT] = "INSERT INTO api_keys (" KEY_COLUMNS ", key_hash)"
			  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_KEY_GET] = "SELECT " KEY_COLUMNS ", key_hash FROM api_keys"
		       " WHERE key_id = ?1",
	[ST_KEY_LIST] = "SELECT " KEY_COLUMNS ", key_hash FROM api_keys"
			" ORDER BY created_at, key_id",
	[ST_KEY_REVOKE] = "UPDATE api_keys SET revoked_at = ?2"
			  " WHERE key_id = ?1 AND revoked_at IS NULL",
	[ST_KEY_COUNT] = "SELECT count(*) FROM api_keys",
	/* Separate texts rather than "(?1 IS NULL OR user_id = ?1)", which
	 * would keep SQLite from using the indexes. */
	[ST_LIST] = SELECT_ALL OLDEST_FIRST,
	[ST_LIST + LIST_USER] = SELECT_ALL " WHERE user_id = :user"
		OLDEST_FIRST,
	[ST_LIST + LIST_AGENT] = SELECT_ALL " WHERE agent_id = :agent"
		OLDEST_FIRST,
	[ST_LIST + LIST_USER + LIST_AGENT] = SELECT_ALL
		" WHERE user_id = :user AND agent_id = :agent" OLDEST_FIRST,
	[ST_LIST + LIST_TENANT] = SELECT_ALL " WHERE tenant_id = :tenant"
		OLDEST_FIRST,
	[ST_LIST + LIST_USER + LIST_TENANT] = SELECT_ALL
		" WHERE user_id = :user AND tenant_id = :tenant" OLDEST_FIRST,
	[ST_LIST + LIST_AGENT + LIST_TENANT] = SELECT_ALL
		" WHERE agent_id = :agent AND tenant_id = :tenant"
		OLDEST_FIRST,
	[ST_LIST + LIST_USER + LIST_AGENT + LIST_TENANT] = SELECT_ALL
		" WHERE user_id = :user AND agent_id = :agent"
		" AND tenant_id = :tenant" OLDEST_FIRST,
};

static const char *const status_text[] = {
	[NX_STATUS_ACTIVE] = "active",
	[NX_STATUS_PAUSED] = "paused",
	[NX_STATUS_STOPPED] = "stopped",
};

struct nx_store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *stmts[ST_COUNT];
};

/* ---- errors ------------------------------------------------------------- */

/* Turn a SQLite result into one line that says what failed and what to
 * do.  op is what we were doing: "open", "read" or "write". */
static int store_fail(nx_store *s, int rc, const char *op, nx_error *err)
{
	int sys = sqlite3_system_errno(s->db);
	const char *p = s->path;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return nx_fail(err, NX_E_STORE,
			       "the state database '%s' is locked by another "
			       "process; try again", p);
	case SQLITE_FULL:
		return nx_fail(err, NX_E_STORE,
			       "cannot write the state database '%s': "
			       "database or disk is full", p);
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return nx_fail(err, NX_E_STORE,
			       "the state database '%s' is corrupted or not a "
			       "database; " DAMAGED_HINT, p);
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return nx_fail(err, NX_E_STORE,
			       "cannot %s the state database '%s': permission "
			       "denied; check the owner and mode of the file "
			       "and its directory", op, p);
	case SQLITE_READONLY:
		return nx_fail(err, NX_E_STORE,
			       "cannot write the state database '%s': it is "
			       "read-only; check the owner and mode of the "
			       "file and its directory", p);
	case SQLITE_NOMEM:
		return nx_fail(err, NX_E_STORE,
			       "cannot %s the state database '%s': out of "
			       "memory", op, p);
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
		if (sys == ENOSPC || sys == EDQUOT)
			return nx_fail(err, NX_E_STORE,
				       "cannot write the state database '%s': "
				       "database or disk is full", p);
		if (sys == EACCES || sys == EPERM)
			return nx_fail(err, NX_E_STORE,
				       "cannot %s the state database '%s': "
				       "permission denied; check the owner and "
				       "mode of the file and its directory",
				       op, p);
		if (sys)
			return nx_fail_errno(err, NX_E_STORE, sys,
					     "cannot %s the state database "
					     "'%s'", op, p);
		break;
	default:
		break;
	}
	return nx_fail(err, NX_E_STORE, "cannot %s the state database '%s': %s",
		       op, p, sqlite3_errstr(rc));
}

static int bad_row(nx_store *s, const char *id, const char *column,
		   nx_error *err)
{
	return nx_fail(err, NX_E_STORE,
		       "the state database '%s' is damaged: sandbox '%s' has "
		       "a bad %s; " DAMAGED_HINT, s->path, id, column);
}

/* ---- statements and transactions ---------------------------------------- */

static void reset_stmtp(sqlite3_stmt **st)
{
	if (*st) {
		sqlite3_reset(*st);
		sqlite3_clear_bindings(*st);
	}
}

/* Leave a cached statement ready for its next use on every exit path. */
#define cleanup_reset __attribute__((cleanup(reset_stmtp)))

static int prepare(nx_store *s, enum stmt_id id, sqlite3_stmt **out,
		   nx_error *err)
{
	int rc;

	if (!s->stmts[id]) {
		rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1,
					SQLITE_PREPARE_PERSISTENT,
					&s->stmts[id], NULL);
		if (rc != SQLITE_OK)
			return store_fail(s, rc, "read", err);
	}
	*out = s->stmts[id];
	return 0;
}

static void rollback(nx_store *s)
{
	/* Some errors (SQLITE_FULL, SQLITE_IOERR, ...) roll back already. */
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static int begin(nx_store *s, nx_error *err)
{
	int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return store_fail(s, rc, "write", err);
	return 0;
}

static int commit(nx_store *s, nx_error *err)
{
	int rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);

	if (rc != SQLITE_OK) {
		store_fail(s, rc, "write", err);
		rollback(s);
		return -1;
	}
	return 0;
}

/* Run a pragma that answers one integer. */
static int pragma_int(nx_store *s, const char *sql, int *out, nx_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*out = sqlite3_column_int(st, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, "read", err);
	return 0;
}

/* ---- binding and reading rows ------------------------------------------- */

static int bind_text(sqlite3_stmt *st, int idx, const char *text)
{
	/* A NULL pointer binds SQL NULL. */
	return sqlite3_bind_text(st, idx, text, -1, SQLITE_STATIC);
}

/* Times: 0 means "none" in nx_sandbox and NULL in the table. */
static int bind_time(sqlite3_stmt *st, int idx, int64_t us)
{
	if (us == 0)
		return sqlite3_bind_null(st, idx);
	return sqlite3_bind_int64(st, idx, us);
}

static bool text_ok(const char *text, bool nullable)
{
	return text ? strlen(text) <= TEXT_MAX : nullable;
}

static bool status_ok(nx_status status)
{
	return (unsigned)status < NX_ARRAY_LEN(status_text);
}

/* What the store writes must be what it accepts back when reading. */
static int check_record(nx_store *s, const nx_sandbox *sb, bool whole,
			nx_error *err)
{
	const char *what = NULL;

	if (!nx_is_sandbox_id(sb->sandbox_id))
		return nx_fail(err, NX_E_STORE,
			       "cannot write the state database '%s': "
			       "malformed sandbox id", s->path);
	if (!status_ok(sb->status))
		what = "status";
	else if (sb->last_active_at < 0 || sb->paused_at < 0 ||
		 sb->stopped_at < 0 || sb->busy_until < 0)
		what = "time";
	else if (!text_ok(sb->provider_status, true))
		what = "provider_status";
	else if (!whole)
		what = NULL;
	else if (!text_ok(sb->name, false))
		what = "name";
	else if (!text_ok(sb->user_id, false))
		what = "user_id";
	else if (!text_ok(sb->agent_id, true))
		what = "agent_id";
	else if (!text_ok(sb->tenant_id, false))
		what = "tenant_id";
	else if (!text_ok(sb->provider, false))
		what = "provider";
	else if (!text_ok(sb->template_id, true))
		what = "template_id";
	else if (!text_ok(sb->handle, true))
		what = "handle";
	else if (sb->created_at < 0)
		what = "created_at";
	else if (sb->ttl_minutes <= 0)
		what = "ttl_minutes";
	if (what)
		return nx_fail(err, NX_E_STORE,
			       "cannot write sandbox '%s' to the state "
			       "database '%s': bad %s", sb->sandbox_id,
			       s->path, what);
	return 0;
}

static int read_text(nx_store *s, sqlite3_stmt *st, int col, bool nullable,
		     const char *id, char **out, nx_error *err)
{
	const unsigned char *text;
	int len;

	*out = NULL;
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_NULL:
		if (nullable)
			return 0;
		break;
	case SQLITE_TEXT:
		text = sqlite3_column_text(st, col);
		len = sqlite3_column_bytes(st, col);
		if (!text)
			return store_fail(s, sqlite3_errcode(s->db), "read",
					  err);
		/* an embedded NUL would silently cut the text short */
		if (len <= TEXT_MAX && !memchr(text, '\0', (size_t)len)) {
			*out = nx_xstrndup((const char *)text, (size_t)len);
			return 0;
		}
		break;
	default:
		break;
	}
	return bad_row(s, id, sqlite3_column_name(st, col), err);
}

static int read_time(nx_store *s, sqlite3_stmt *st, int col, bool nullable,
		     const char *id, int64_t *out, nx_error *err)
{
	*out = 0;
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_NULL:
		if (nullable)
			return 0;
		break;
	case SQLITE_INTEGER:
		*out = sqlite3_column_int64(st, col);
		if (*out >= 0)
			return 0;
		break;
	default:
		break;
	}
	return bad_row(s, id, sqlite3_column_name(st, col), err);
}

static int read_status(nx_store *s, sqlite3_stmt *st, const char *id,
		       nx_status *out, nx_error *err)
{
	const char *text;
	size_t i;

	if (sqlite3_column_type(st, COL_STATUS) == SQLITE_TEXT) {
		text = (const char *)sqlite3_column_text(st, COL_STATUS);
		for (i = 0; text && i < NX_ARRAY_LEN(status_text); i++) {
			if (strcmp(text, status_text[i]) == 0) {
				*out = (nx_status)i;
				return 0;
			}
		}
	}
	return bad_row(s, id, "status", err);
}

static int read_ttl(nx_store *s, sqlite3_stmt *st, const char *id, int *out,
		    nx_error *err)
{
	sqlite3_int64 v;

	if (sqlite3_column_type(st, COL_TTL_MINUTES) == SQLITE_INTEGER) {
		v = sqlite3_column_int64(st, COL_TTL_MINUTES);
		if (v > 0 && v <= INT_MAX) {
			*out = (int)v;
			return 0;
		}
	}
	return bad_row(s, id, "ttl_minutes", err);
}

/* Fill sb from the current row, checking every column: the file belongs
 * to the user and may have been edited by hand. */
static int read_row(nx_store *s, sqlite3_stmt *st, nx_sandbox *sb,
		    nx_error *err)
{
	const char *id;
	int rc;

	memset(sb, 0, sizeof *sb);
	/* The type first: reading a value as text converts it.  The id is
	 * checked before it goes into any message. */
	id = sqlite3_column_type(st, COL_SANDBOX_ID) == SQLITE_TEXT ?
		     (const char *)sqlite3_column_text(st, COL_SANDBOX_ID) :
		     NULL;
	if (!id ||
	    (size_t)sqlite3_column_bytes(st, COL_SANDBOX_ID) != NX_ID_LEN ||
	    !nx_is_sandbox_id(id))
		return nx_fail(err, NX_E_STORE,
			       "the state database '%s' is damaged: a row has "
			       "a malformed sandbox_id; " DAMAGED_HINT,
			       s->path);
	memcpy(sb->sandbox_id, id, NX_ID_LEN + 1);
	id = sb->sandbox_id;

	rc = read_text(s, st, COL_NAME, false, id, &sb->name, err);
	if (!rc)
		rc = read_text(s, st, COL_USER_ID, false, id, &sb->user_id,
			       err);
	if (!rc)
		rc = read_text(s, st, COL_AGENT_ID, true, id, &sb->agent_id,
			       err);
	if (!rc)
		rc = read_text(s, st, COL_TENANT_ID, false, id,
			       &sb->tenant_id, err);
	if (!rc)
		rc = read_text(s, st, COL_PROVIDER, false, id, &sb->provider,
			       err);
	if (!rc)
		rc = read_text(s, st, COL_TEMPLATE_ID, true, id,
			       &sb->template_id, err);
	if (!rc)
		rc = read_text(s, st, COL_HANDLE, true, id, &sb->handle, err);
	if (!rc)
		rc = read_status(s, st, id, &sb->status, err);
	if (!rc)
		rc = read_time(s, st, COL_CREATED_AT, false, id,
			       &sb->created_at, err);
	if (!rc)
		rc = read_time(s, st, COL_LAST_ACTIVE_AT, false, id,
			       &sb->last_active_at, err);
	if (!rc)
		rc = read_time(s, st, COL_PAUSED_AT, true, id, &sb->paused_at,
			       err);
	if (!rc)
		rc = read_time(s, st, COL_STOPPED_AT, true, id,
			       &sb->stopped_at, err);
	if (!rc)
		rc = read_time(s, st, COL_BUSY_UNTIL, true, id,
			       &sb->busy_until, err);
	if (!rc)
		rc = read_ttl(s, st, id, &sb->ttl_minutes, err);
	if (!rc)
		rc = read_text(s, st, COL_PROVIDER_STATUS, true, id,
			       &sb->provider_status, err);
	if (rc)
		nx_sandbox_clear(sb);
	return rc;
}

/* Step st to the end, appending every row to out. */
static int read_rows(nx_store *s, sqlite3_stmt *st, nx_sandbox_array *out,
		     nx_error *err)
{
	nx_sandbox_array rows = { 0 };
	size_t cap = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (rows.count == cap) {
			cap = cap ? cap * 2 : 8;
			rows.items = nx_xrealloc(rows.items,
						 cap * sizeof *rows.items);
		}
		if (read_row(s, st, &rows.items[rows.count], err) < 0) {
			nx_sandbox_array_clear(&rows);
			return -1;
		}
		rows.count++;
	}
	if (rc != SQLITE_DONE) {
		nx_sandbox_array_clear(&rows);
		return store_fail(s, rc, "read", err);
	}
	*out = rows;
	return 0;
}

/* ---- opening ------------------------------------------------------------ */

/* mkdir -p of path's directory, each new directory 0700 whatever the
 * umask; directories that exist already are left as they are. */
static int make_parents(const char *path, nx_error *err)
{
	cleanup_free char *dir = nx_xstrdup(path);
	char *slash = strrchr(dir, '/');
	char *p;

	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (p = dir + 1;; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) == 0) {
			if (chmod(dir, 0700) < 0)
				return nx_fail_errno(err, NX_E_STORE, errno,
						     "cannot set the mode of "
						     "'%s'", dir);
		} else if (errno != EEXIST) {
			return nx_fail_errno(err, NX_E_STORE, errno,
					     "cannot create the directory '%s' "
					     "for the state database", dir);
		}
		*p = c;
		if (!c)
			break;
	}
	return 0;
}

/* Create the file ourselves, 0600 whatever the umask: SQLite would make it
 * 0644 & ~umask, and gives its -wal and -shm files the mode of the
 * database file. */
static int create_file(const char *path, nx_error *err)
{
	cleanup_close int fd = open(path, O_RDWR | O_CREAT | O_EXCL |
					  O_CLOEXEC | O_NOCTTY, 0600);

	if (fd < 0) {
		if (errno == EEXIST)
			return 0;
		if (errno == EACCES || errno == EPERM)
			return nx_fail(err, NX_E_STORE,
				       "cannot create the state database '%s': "
				       "permission denied; check the owner and "
				       "mode of its directory", path);
		return nx_fail_errno(err, NX_E_STORE, errno,
				     "cannot create the state database '%s'",
				     path);
	}
	if (fchmod(fd, 0600) < 0)
		return nx_fail_errno(err, NX_E_STORE, errno,
				     "cannot set the mode of the state "
				     "database '%s'", path);
	return 0;
}

static int migrate(nx_store *s, nx_error *err)
{
	int version, rc;
	size_t i;

	/* A file property: once set, every later connection gets WAL.  It
	 * cannot change inside a transaction.  Where WAL is unavailable
	 * (some network file systems) SQLite keeps the old mode, which still
	 * works, only with less concurrency. */
	rc = sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, "write", err);
	if (begin(s, err) < 0)
		return -1;
	/* Another process may have migrated while we waited for the lock. */
	if (pragma_int(s, "PRAGMA user_version", &version, err) < 0)
		goto fail;
	for (i = 0; i < NX_ARRAY_LEN(migrations); i++) {
		if (migrations[i].version <= version)
			continue;
		rc = sqlite3_exec(s->db, migrations[i].sql, NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			store_fail(s, rc, "write", err);
			goto fail;
		}
	}
	if (pragma_int(s, "PRAGMA user_version", &version, err) < 0)
		goto fail;
	if (version != SCHEMA_VERSION) {
		nx_fail(err, NX_E_STORE,
			"cannot upgrade the state database '%s': it is at "
			"schema version %d after migrating to %d", s->path,
			version, SCHEMA_VERSION);
		goto fail;
	}
	return commit(s, err);
fail:
	rollback(s);
	return -1;
}

/* Every nexus command is a process of its own, and by default the last
 * connection to close checkpoints the WAL into the database and deletes
 * it, so that the next command creates it again: three fsyncs (WAL,
 * database, directory) on every command, a third of what a quick run
 * costs nexus.  Keep the WAL file, and leave checkpoints to SQLite's
 * automatic ones (every 1000 pages).  Nothing is less durable: a commit
 * is in the WAL either way. */
static void keep_wal(sqlite3 *db)
{
	int on = 1;

	sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &on);
#ifdef SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE
	sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
#endif
}

static int open_db(nx_store *s, nx_error *err)
{
	int version, rc;

	rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK) {
		if (!s->db)
			return nx_fail(err, NX_E_STORE,
				       "cannot open the state database '%s': "
				       "out of memory", s->path);
		return store_fail(s, rc, "open", err);
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	keep_wal(s->db);
	/* Per connection and without I/O, so cheap on every open. */
	rc = sqlite3_exec(s->db,
			  "PRAGMA foreign_keys = ON;"
			  " PRAGMA synchronous = FULL",
			  NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, "open", err);
	/* The first read of the file: a non-database fails here. */
	if (pragma_int(s, "PRAGMA user_version", &version, err) < 0)
		return -1;
	if (version > SCHEMA_VERSION)
		return nx_fail(err, NX_E_STORE,
			       "the state database '%s' has schema version %d, "
			       "newer than this nexus knows (%d); "
			       "upgrade nexus", s->path, version,
			       SCHEMA_VERSION);
	if (version < SCHEMA_VERSION)
		return migrate(s, err);
	return 0;
}

int nx_store_open(const char *path, nx_store **out, nx_error *err)
{
	nx_store *s;

	*out = NULL;
	if (make_parents(path, err) < 0 || create_file(path, err) < 0)
		return -1;
	s = nx_xcalloc(1, sizeof *s);
	s->path = nx_xstrdup(path);
	if (open_db(s, err) < 0) {
		nx_store_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

void nx_store_set_busy_timeout(nx_store *s, int ms)
{
	sqlite3_busy_timeout(s->db, ms);
}

void nx_store_set_durable(nx_store *s, bool durable)
{
	/* Per connection, no I/O: it cannot fail on a healthy handle. */
	sqlite3_exec(s->db, durable ? "PRAGMA synchronous = FULL" :
				      "PRAGMA synchronous = NORMAL",
		     NULL, NULL, NULL);
}

void nx_store_close(nx_store *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->stmts[i]);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

/* ---- reads -------------------------------------------------------------- */

/* Step a one-row query by key: 0 with *found, or -1 (then *found is
 * false). */
static int lookup(nx_store *s, sqlite3_stmt *st, const char *key, bool *found,
		  nx_error *err)
{
	int rc = bind_text(st, 1, key);

	*found = false;
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return store_fail(s, rc, "read", err);
	*found = true;
	return 0;
}

int nx_store_get(nx_store *s, const char *sandbox_id, nx_sandbox *out,
		 bool *found, nx_error *err)
{
	cleanup_reset sqlite3_stmt *st = NULL;

	memset(out, 0, sizeof *out);
	*found = false;
	if (prepare(s, ST_GET, &st, err) < 0)
		return -1;
	if (lookup(s, st, sandbox_id, found, err) < 0)
		return -1;
	if (!*found)
		return 0;
	if (read_row(s, st, out, err) < 0) {
		*found = false;
		return -1;
	}
	return 0;
}

int nx_store_find_by_name(nx_store *s, const char *user_id,
			  const char *tenant_id, const char *name,
			  nx_sandbox_array *out, nx_error *err)
{
	cleanup_reset sqlite3_stmt *st = NULL;
	int rc;

	out->items = NULL;
	out->count = 0;
	if (prepare(s, ST_FIND_BY_NAME, &st, err) < 0)
		return -1;
	rc = bind_text(st, 1, user_id);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 2, tenant_id);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 3, name);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, "read", err);
	return read_rows(s, st, out, err);
}

static int bind_named(sqlite3_stmt *st, const char *param, const char *value)
{
	int idx = sqlite3_bind_parameter_index(st, param);

	return idx ? bind_text(st, idx, value) : SQLITE_OK;
}

int nx_store_list(nx_store *s, const nx_store_filter *filter,
		  nx_sandbox_array *out, nx_error *err)
{
	static const nx_store_filter all = { 0 };
	cleanup_reset sqlite3_stmt *st = NULL;
	int which = 0, rc;

	out->items = NULL;
	out->count = 0;
	if (!filter)
		filter = &all;
	if (filter->user_id)
		which |= LIST_USER;
	if (filter->agent_id)
		which |= LIST_AGENT;
	if (filter->tenant_id)
		which |= LIST_TENANT;
	if (prepare(s, ST_LIST + which, &st, err) < 0)
		return -1;
	rc = bind_named(st, ":user", filter->user_id);
	if (rc == SQLITE_OK)
		rc = bind_named(st, ":agent", filter->agent_id);
	if (rc == SQLITE_OK)
		rc = bind_named(st, ":tenant", filter->tenant_id);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, "read", err);
	return read_rows(s, st, out, err);
}

int nx_store_list_expired(nx_store *s, int64_t now, nx_sandbox_array *out,
			  nx_error *err)
{
	cleanup_reset sqlite3_stmt *st = NULL;
	int rc;

	out->items = NULL;
	out->count = 0;
	if (prepare(s, ST_EXPIRED, &st, err) < 0)
		return -1;
	rc = sqlite3_bind_int64(st, 1, now);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, "read", err);
	return read_rows(s, st, out, err);
}

/* ---- writes ------------------------------------------------------------- */

/* Step a bound write statement inside its own transaction; *rc_out gets
 * the statement's own result (the rollback would hide it) and *changes
 * the rows it changed. */
static int write_one(nx_store *s, sqlite3_stmt *st, int *rc_out,
		     int *changes, nx_error *err)
{
	int rc;

	*rc_out = SQLITE_OK;
	if (begin(s, err) < 0)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		*rc_out = rc;
		store_fail(s, rc, "write", err);
		rollback(s);
		return -1;
	}
	if (changes)
		*changes = sqlite3_changes(s->db);
	return commit(s, err);
}

int nx_store_insert(nx_store *s, const nx_sandbox *sb, nx_error *err)
{
	cleanup_reset sqlite3_stmt *st = NULL;
	int rc;

	if (check_record(s, sb, true, err) < 0 ||
	    prepare(s, ST_INSERT, &st, err) < 0)
		return -1;
	rc = bind_text(st, 1 + COL_SANDBOX_ID, sb->sandbox_id);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 1 + COL_NAME, sb->name);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 1 + COL_USER_ID, sb->user_id);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 1 + COL_AGENT_ID, sb->agent_id);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 1 + COL_TENANT_ID, sb->tenant_id);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 1 + COL_PROVIDER, sb->provider);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 1 + COL_TEMPLATE_ID, sb->template_id);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 1 + COL_HANDLE, sb->handle);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 1 + COL_STATUS, status_text[sb->status]);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1 + COL_CREATED_AT, sb->created_at);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1 + COL_LAST_ACTIVE_AT,
					sb->last_active_at);
	if (rc == SQLITE_OK)
		rc = bind_time(st, 1 + COL_PAUSED_AT, sb->paused_at);
	if (rc == SQLITE_OK)
		rc = bind_time(st, 1 + COL_STOPPED_AT, sb->stopped_at);
	if (rc == SQLITE_OK)
		rc = bind_time(st, 1 + COL_BUSY_UNTIL, sb->busy_until);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 1 + COL_TTL_MINUTES, sb->ttl_minutes);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 1 + COL_PROVIDER_STATUS,
			       sb->provider_status);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, "write", err);
	if (write_one(s, st, &rc, NULL, err) < 0) {
		if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			nx_fail(err, NX_E_STORE,
				"cannot add sandbox '%s' to the state database "
				"'%s': the id is already in use",
				sb->sandbox_id, s->path);
		return -1;
	}
	return 0;
}

int nx_store_update(nx_store *s, const nx_sandbox *sb, nx_status expect,
		    bool *changed, nx_error *err)
{
	cleanup_reset sqlite3_stmt *st = NULL;
	int rc, changes = 0;

	*changed = false;
	if (check_record(s, sb, false, err) < 0)
		return -1;
	if (!status_ok(expect))
		return nx_fail(err, NX_E_STORE,
			       "cannot write sandbox '%s' to the state "
			       "database '%s': bad expected status",
			       sb->sandbox_id, s->path);
	if (prepare(s, ST_UPDATE, &st, err) < 0)
		return -1;
	rc = bind_text(st, 1, status_text[sb->status]);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, sb->last_active_at);
	if (rc == SQLITE_OK)
		rc = bind_time(st, 3, sb->paused_at);
	if (rc == SQLITE_OK)
		rc = bind_time(st, 4, sb->stopped_at);
	if (rc == SQLITE_OK)
		rc = bind_time(st, 5, sb->busy_until);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 6, sb->provider_status);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 7, sb->sandbox_id);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 8, status_text[expect]);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, "write", err);
	if (write_one(s, st, &rc, &changes, err) < 0)
		return -1;
	*changed = changes > 0;
	return 0;
}

/* ---- API keys ----------------------------------------------------------- */

static int bad_key_row(nx_store *s, nx_error *err)
{
	return nx_fail(err, NX_E_STORE,
		       "the state database '%s' is damaged: an API key row is "
		       "malformed; " DAMAGED_HINT, s->path);
}

static char *dup_column(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? nx_xstrdup((const char *)t) : NULL;
}

/* One row of KEY_COLUMNS, key_hash, into out and hash. */
static int read_key_row(nx_store *s, sqlite3_stmt *st, nx_key_info *out,
			char hash[NX_KEY_HASH_LEN + 1], nx_error *err)
{
	const unsigned char *id = sqlite3_column_text(st, 0);
	const unsigned char *h = sqlite3_column_text(st, 7);

	memset(out, 0, sizeof *out);
	if (!id || strlen((const char *)id) != NX_KEY_ID_LEN || !h ||
	    strlen((const char *)h) != NX_KEY_HASH_LEN ||
	    sqlite3_column_type(st, 1) != SQLITE_TEXT ||
	    sqlite3_column_type(st, 2) != SQLITE_TEXT)
		return bad_key_row(s, err);
	memcpy(out->key_id, id, NX_KEY_ID_LEN + 1);
	if (hash)
		memcpy(hash, h, NX_KEY_HASH_LEN + 1);
	out->user_id = dup_column(st, 1);
	out->tenant_id = dup_column(st, 2);
	out->agent_id = dup_column(st, 3);
	out->admin = sqlite3_column_int(st, 4) != 0;
	out->created_at = sqlite3_column_int64(st, 5);
	out->revoked_at = sqlite3_column_int64(st, 6);
	return 0;
}

int nx_store_key_insert(nx_store *s, const nx_key_info *k, const char *hash,
			nx_error *err)
{
	cleanup_reset sqlite3_stmt *st = NULL;
	int rc;

	if (prepare(s, ST_KEY_INSERT, &st, err) < 0)
		return -1;
	rc = bind_text(st, 1, k->key_id);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 2, k->user_id);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 3, k->tenant_id);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 4, k->agent_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 5, k->admin);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 6, k->created_at);
	if (rc == SQLITE_OK)
		rc = bind_time(st, 7, k->revoked_at);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 8, hash);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, "write", err);
	return write_one(s, st, &rc, NULL, err);
}

int nx_store_key_get(nx_store *s, const char *key_id, nx_key_info *out,
		     char hash[NX_KEY_HASH_LEN + 1], bool *found,
		     nx_error *err)
{
	cleanup_reset sqlite3_stmt *st = NULL;

	*found = false;
	memset(out, 0, sizeof *out);
	if (prepare(s, ST_KEY_GET, &st, err) < 0)
		return -1;
	if (lookup(s, st, key_id, found, err) < 0)
		return -1;
	if (!*found)
		return 0;
	if (read_key_row(s, st, out, hash, err) < 0) {
		*found = false;
		return -1;
	}
	return 0;
}

int nx_store_key_list(nx_store *s, nx_key_info_array *out, nx_error *err)
{
	cleanup_reset sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc;

	out->items = NULL;
	out->count = 0;
	if (prepare(s, ST_KEY_LIST, &st, err) < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (out->count == cap) {
			cap = cap ? cap * 2 : 8;
			out->items = nx_xrealloc(out->items,
						 cap * sizeof *out->items);
		}
		if (read_key_row(s, st, &out->items[out->count], NULL, err) < 0) {
			nx_key_info_array_clear(out);
			return -1;
		}
		out->count++;
	}
	if (rc != SQLITE_DONE) {
		nx_key_info_array_clear(out);
		return store_fail(s, rc, "read", err);
	}
	return 0;
}

int nx_store_key_revoke(nx_store *s, const char *key_id, int64_t now,
			nx_error *err)
{
	cleanup_reset sqlite3_stmt *st = NULL;
	int rc;

	if (prepare(s, ST_KEY_REVOKE, &st, err) < 0)
		return -1;
	rc = bind_text(st, 1, key_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, now);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, "write", err);
	return write_one(s, st, &rc, NULL, err);
}

int nx_store_key_count(nx_store *s, int *count, nx_error *err)
{
	cleanup_reset sqlite3_stmt *st = NULL;
	int rc;

	if (prepare(s, ST_KEY_COUNT, &st, err) < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return store_fail(s, rc, "read", err);
	*count = sqlite3_column_int(st, 0);
	return 0;
}
