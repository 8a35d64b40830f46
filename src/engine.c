/* engine.c - the sandbox life cycle: the one place that knows the rules.
 *
 * TTL is an idle timeout: expires_at = last_active_at + ttl.  A run resets
 * it (and holds expiry off while it lasts, through busy_until), pause
 * clears it, resume starts a fresh one.  Every call first stops what has
 * expired, so the store tells the truth even when no nexus process was
 * alive at the moment of expiry (the container has ended itself by then:
 * its agent enforces the same TTL from inside).
 *
 * Order of effects: the provider acts first, the row is written after, and
 * every row write is conditional on the status read before it, so a
 * failure or a race leaves no row claiming what is not so.  A failed create
 * destroys what the provider made. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <sys/file.h>

#include "paths.h"
#include "provider.h"
#include "remote.h"
#include "store.h"

#define DEFAULT_TTL_MINUTES 10
#define DEFAULT_TIMEOUT_SECONDS 30
#define MAX_NAME_LEN 128
/* How long past its timeout a run may hold expiry off before the row is
 * considered abandoned (a nexus killed mid-run). */
#define RUN_GRACE_US (60 * 1000000LL)
/* A sandbox made this recently may still be waiting for its row, when
 * a create is under way (or a nexus too old to take the create lock). */
#define ORPHAN_GRACE_SECONDS 60
/* A create holds this file of the data directory locked (shared) from
 * before its container exists until its row is written or the container
 * is removed again; a create killed in between lets go as it dies.  While
 * it can be locked exclusively no create is half-way. */
#define CREATE_LOCK "create.lock"

struct nx_engine {
	nx_remote *remote;          /* set: every call goes to a server */
	char *data_dir;
	char *db_path;
	nx_store *store;
	nx_providers providers;
};

static int stop_expired(nx_engine *e, nx_error *err);

nx_store *nx_engine_store(nx_engine *e)
{
	return e->store;
}

int nx_engine_reap(nx_engine *e, nx_error *err)
{
	if (e->remote)
		return nx_fail(err, NX_E_UNSUPPORTED,
			       "the server reaps its own sandboxes");
	return stop_expired(e, err);
}

void nx_context_default(nx_context *ctx)
{
	const char *user = getenv("NEXUS_USER");
	const char *tenant = getenv("NEXUS_TENANT");

	struct passwd *pw;

	if (!ctx->user_id) {
		/* The account, not $USER: that one is easy to get wrong. */
		if (!user || !*user) {
			pw = getpwuid(geteuid());
			user = pw ? pw->pw_name : NULL;
		}
		ctx->user_id = user && *user ? user : "unknown";
	}
	if (!ctx->tenant_id)
		ctx->tenant_id = tenant && *tenant ? tenant : "default";
}

/* The provider of a sandbox (its record's provider; NULL: docker). */
static int provider_of(nx_engine *e, const char *name, nx_provider_slot **out,
		       nx_error *err)
{
	return nx_providers_get(&e->providers, name ? name : "docker", out, err);
}

int nx_engine_open(nx_engine **out, const nx_engine_opts *opts, nx_error *err)
{
	nx_engine *e = nx_xcalloc(1, sizeof *e);
	nx_provider_slot *slot;

	if (opts && opts->url) {
		if (nx_remote_open(opts->url, opts->api_key, &e->remote, err) < 0)
			goto fail;
		*out = e;
		return 0;
	}
	if (opts && opts->data_dir)
		e->data_dir = nx_xstrdup(opts->data_dir);
	else if (nx_data_dir(&e->data_dir, err) < 0)
		goto fail;
	if (nx_database_path(e->data_dir, &e->db_path, err) < 0 ||
	    nx_store_open(e->db_path, &e->store, err) < 0)
		goto fail;
	/* Docker at once, so that a bad DOCKER_HOST is an error of every
	 * command; plugins when a sandbox of theirs comes up. */
	e->providers.data_dir = e->data_dir;
	if (provider_of(e, NULL, &slot, err) < 0)
		goto fail;
	*out = e;
	return 0;
fail:
	nx_engine_close(e);
	return -1;
}

void nx_engine_close(nx_engine *e)
{
	if (!e)
		return;
	nx_remote_close(e->remote);
	nx_providers_close(&e->providers);
	nx_store_close(e->store);
	free(e->db_path);
	free(e->data_dir);
	free(e);
}

/* ---- helpers ---------------------------------------------------------- */

static int64_t expiry_time(const nx_sandbox *sb)
{
	int64_t t = nx_sandbox_expires_at(sb);

	return sb->busy_until > t ? sb->busy_until : t;
}

static bool visible_to(const nx_sandbox *sb, const nx_context *ctx)
{
	if (ctx->admin)
		return true;
	return strcmp(sb->user_id, ctx->user_id) == 0 &&
	       strcmp(sb->tenant_id, ctx->tenant_id) == 0;
}

/* Write sb back if its row still has status expect; a lost race is
 * reported as a state error with the row as it now is. */
static int write_back(nx_engine *e, nx_sandbox *sb, nx_status expect,
		      nx_error *err)
{
	bool changed;

	if (nx_store_update(e->store, sb, expect, &changed, err) < 0)
		return -1;
	if (!changed)
		return nx_fail(err, NX_E_STATE,
			       "sandbox '%s' was changed by another nexus process; try again",
			       sb->sandbox_id);
	return 0;
}

/* Stop and destroy every sandbox whose TTL has passed.  The provider's
 * answer does not matter here: the container ends itself at expiry, so
 * the row is stopped even when the provider cannot be reached. */
static int stop_expired(nx_engine *e, nx_error *err)
{
	nx_sandbox_array expired = { 0 };
	int64_t now = nx_now_us();
	nx_provider_slot *slot;
	nx_error ignored;
	bool changed;
	size_t i;

	if (nx_store_list_expired(e->store, now, &expired, err) < 0)
		return -1;
	for (i = 0; i < expired.count; i++) {
		nx_sandbox *sb = &expired.items[i];

		/* The provider ends it on its own too (the agent's TTL, E2B's
		 * timeout): the row must not wait for a plugin that is gone. */
		if (sb->handle && provider_of(e, sb->provider, &slot, &ignored) == 0)
			slot->p->destroy(slot->self, sb->handle, &ignored);
		/* Before the status changes: expiry is an active sandbox's. */
		sb->stopped_at = expiry_time(sb);
		sb->status = NX_STATUS_STOPPED;
		sb->busy_until = 0;
		if (nx_store_update(e->store, sb, NX_STATUS_ACTIVE, &changed,
				    err) < 0) {
			nx_sandbox_array_clear(&expired);
			return -1;
		}
	}
	nx_sandbox_array_clear(&expired);
	return 0;
}

static int pick_by_name(nx_sandbox_array *rows, const char *name,
			nx_sandbox *out, nx_error *err)
{
	size_t i, live = 0, pick = 0;

	for (i = 0; i < rows->count; i++) {
		if (rows->items[i].status != NX_STATUS_STOPPED) {
			live++;
			pick = i;
		}
	}
	/* A name stands for its one live sandbox; failing that, for its one
	 * sandbox at all. */
	if (live == 0 && rows->count == 1)
		live = 1;
	if (live != 1)
		return nx_fail(err, NX_E_AMBIGUOUS,
			       "name '%s' matches %zu sandboxes; use a sandbox id (see 'nexus sandbox list')",
			       name, live ? live : rows->count);
	*out = rows->items[pick];
	memset(&rows->items[pick], 0, sizeof rows->items[pick]);
	return 0;
}

/* Find the sandbox a caller means by ref: its id, else its name. */
static int resolve(nx_engine *e, const nx_context *ctx, const char *ref,
		   nx_sandbox *out, nx_error *err)
{
	nx_sandbox_array rows = { 0 };
	bool found = false;
	int r;

	if (!ref || !*ref)
		return nx_fail(err, NX_E_USAGE, "a sandbox id or name is required");
	if (stop_expired(e, err) < 0)
		return -1;
	if (nx_is_sandbox_id(ref)) {
		if (nx_store_get(e->store, ref, out, &found, err) < 0)
			return -1;
		if (found && visible_to(out, ctx))
			return 0;
		if (found)
			nx_sandbox_clear(out);
	}
	if (nx_store_find_by_name(e->store, ctx->user_id, ctx->tenant_id, ref,
				  &rows, err) < 0)
		return -1;
	if (rows.count == 0)
		r = nx_fail(err, NX_E_NOTFOUND,
			    "sandbox '%s' not found (see 'nexus sandbox list')",
			    ref);
	else
		r = pick_by_name(&rows, ref, out, err);
	nx_sandbox_array_clear(&rows);
	return r;
}

static int require_status(const nx_sandbox *sb, nx_status want,
			  nx_error *err)
{
	if (sb->status == want)
		return 0;
	if (sb->status == NX_STATUS_STOPPED)
		return nx_fail(err, NX_E_STATE,
			       "sandbox '%s' is stopped; create a new one with 'nexus sandbox create'",
			       sb->sandbox_id);
	if (sb->status == NX_STATUS_PAUSED)
		return nx_fail(err, NX_E_STATE,
			       "sandbox '%s' is paused; resume it with 'nexus sandbox resume %s'",
			       sb->sandbox_id, sb->sandbox_id);
	return nx_fail(err, NX_E_STATE, "sandbox '%s' is not paused",
		       sb->sandbox_id);
}

/* The provider says the sandbox no longer exists: record that. */
static void mark_gone(nx_engine *e, nx_sandbox *sb)
{
	nx_status was = sb->status;
	nx_error ignored;
	bool changed;

	sb->status = NX_STATUS_STOPPED;
	sb->stopped_at = nx_now_us();
	sb->busy_until = 0;
	nx_store_update(e->store, sb, was, &changed, &ignored);
}

/* ---- the API ----------------------------------------------------------- */

/* The identity a sandbox records comes from a key (checked when it was
 * made) or, locally, from NEXUS_USER and NEXUS_TENANT, checked here: it is
 * printed in every listing. */
static int check_identity(const nx_context *ctx, nx_error *err)
{
	if (!nx_is_clean_text(ctx->user_id, MAX_NAME_LEN))
		return nx_fail(err, NX_E_USAGE,
			       "the user id must be 1 to %d bytes of printable UTF-8 (check NEXUS_USER)",
			       MAX_NAME_LEN);
	if (!nx_is_clean_text(ctx->tenant_id, MAX_NAME_LEN))
		return nx_fail(err, NX_E_USAGE,
			       "the tenant id must be 1 to %d bytes of printable UTF-8 (check NEXUS_TENANT)",
			       MAX_NAME_LEN);
	return 0;
}

static int check_create_opts(const nx_create_opts *opts, nx_error *err)
{
	if (!opts->name || !nx_is_clean_text(opts->name, MAX_NAME_LEN))
		return nx_fail(err, NX_E_USAGE,
			       "a sandbox name must be 1 to %d bytes of printable UTF-8",
			       MAX_NAME_LEN);
	if (opts->ttl_minutes < 0 || opts->ttl_minutes > NX_MAX_TTL_MINUTES)
		return nx_fail(err, NX_E_USAGE,
			       "TTL must be a whole number of minutes from 1 to %d",
			       NX_MAX_TTL_MINUTES);
	if (opts->agent_id && !nx_is_clean_text(opts->agent_id, MAX_NAME_LEN))
		return nx_fail(err, NX_E_USAGE,
			       "an agent id must be 1 to %d bytes of printable UTF-8",
			       MAX_NAME_LEN);
	if (opts->template_id && !nx_is_clean_text(opts->template_id, 255))
		return nx_fail(err, NX_E_USAGE,
			       "a template must be 1 to 255 bytes of printable text");
	return 0;
}

/* The isolation asked for, or NEXUS_ISOLATION's; NULL when neither says,
 * which leaves the choice to the provider. */
static int chosen_isolation(const nx_create_opts *opts, const char **out,
			    nx_error *err)
{
	const char *v = opts->isolation;
	const char *source = "unknown isolation";

	if (!v) {
		v = getenv("NEXUS_ISOLATION");
		source = "NEXUS_ISOLATION is";
		if (v && !*v)
			v = NULL;
	}
	*out = v;
	if (!v || strcmp(v, "runc") == 0 || strcmp(v, "gvisor") == 0)
		return 0;
	return nx_fail(err, NX_E_USAGE, "%s '%s'; use runc or gvisor", source,
		       nx_is_clean_text(v, 32) ? v : "(unprintable)");
}

static int open_create_lock(nx_engine *e, int *fd, nx_error *err)
{
	cleanup_free char *path = nx_xasprintf("%s/" CREATE_LOCK, e->data_dir);

	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	/* The data directory need not exist when the database is elsewhere
	 * (NEXUS_DATABASE_URL). */
	if (*fd < 0 && errno == ENOENT) {
		if (nx_mkdir_p(e->data_dir, 0700, err) < 0)
			return -1;
		*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	}
	if (*fd < 0)
		return nx_fail_errno(err, NX_E_SYSTEM, errno,
				     "cannot open the lock file '%s'", path);
	return 0;
}

/* Waits only while a list --verify is reaping. */
static int lock_for_create(nx_engine *e, int *fd, nx_error *err)
{
	if (open_create_lock(e, fd, err) < 0)
		return -1;
	while (flock(*fd, LOCK_SH) < 0)
		if (errno != EINTR)
			return nx_fail_errno(err, NX_E_SYSTEM, errno,
					     "cannot lock '%s/" CREATE_LOCK "'",
					     e->data_dir);
	return 0;
}

static int local_create(nx_engine *e, const nx_context *ctx,
		        const nx_create_opts *opts, nx_sandbox *out,
		        nx_error *err)
{
	const char *provider = opts->provider ? opts->provider :
			       getenv("NEXUS_PROVIDER");
	nx_sandbox sb = { 0 };
	nx_provider_create req;
	nx_provider_slot *slot;
	nx_error ignored;
	const char *isolation;
	cleanup_close int lock = -1;
	int64_t now;

	if (check_identity(ctx, err) < 0 || check_create_opts(opts, err) < 0 ||
	    chosen_isolation(opts, &isolation, err) < 0 ||
	    stop_expired(e, err) < 0 ||
	    provider_of(e, provider && *provider ? provider : NULL, &slot,
			err) < 0 ||
	    lock_for_create(e, &lock, err) < 0)
		return -1;
	nx_random_id(sb.sandbox_id, NX_ID_LEN);
	sb.ttl_minutes = opts->ttl_minutes ? opts->ttl_minutes :
					     DEFAULT_TTL_MINUTES;
	req = (nx_provider_create){
		.sandbox_id = sb.sandbox_id,
		.name = opts->name,
		.user_id = ctx->user_id,
		.tenant_id = ctx->tenant_id,
		.agent_id = opts->agent_id,
		.template_id = opts->template_id,
		.ttl_minutes = sb.ttl_minutes,
		.isolation = isolation,
	};
	if (slot->p->create(slot->self, &req, &sb.handle, err) < 0)
		return -1;
	now = nx_now_us();
	sb.name = nx_xstrdup(opts->name);
	sb.user_id = nx_xstrdup(ctx->user_id);
	sb.agent_id = nx_xstrdup_or_null(opts->agent_id);
	sb.tenant_id = nx_xstrdup(ctx->tenant_id);
	sb.provider = nx_xstrdup(slot->p->name);
	sb.template_id = nx_xstrdup_or_null(opts->template_id);
	sb.status = NX_STATUS_ACTIVE;
	sb.created_at = now;
	sb.last_active_at = now;
	if (nx_store_insert(e->store, &sb, err) < 0) {
		/* No row, so no container either. */
		slot->p->destroy(slot->self, sb.handle, &ignored);
		nx_sandbox_clear(&sb);
		return -1;
	}
	*out = sb;
	return 0;
}

static int check_run_opts(const nx_run_opts *opts, nx_error *err)
{
	static const char *const languages[] = { "python", "javascript",
						 "bash" };
	size_t i;

	if (!opts->language)
		return nx_fail(err, NX_E_USAGE, "a language is required");
	for (i = 0; i < NX_ARRAY_LEN(languages); i++)
		if (strcmp(opts->language, languages[i]) == 0)
			break;
	if (i == NX_ARRAY_LEN(languages))
		return nx_fail(err, NX_E_USAGE,
			       "unknown language '%s'; use python, javascript or bash",
			       opts->language);
	if (!opts->code)
		return nx_fail(err, NX_E_USAGE, "no code to run");
	if (opts->timeout_seconds < 0 ||
	    opts->timeout_seconds > NX_MAX_TIMEOUT_SECONDS)
		return nx_fail(err, NX_E_USAGE,
			       "timeout must be a whole number of seconds from 1 to %d",
			       NX_MAX_TIMEOUT_SECONDS);
	return 0;
}

/* A run holds the sandbox: last_active_at moves to now and busy_until
 * keeps expiry off until the run must have ended. */
static int begin_run(nx_engine *e, nx_sandbox *sb, int timeout,
		     nx_error *err)
{
	int64_t now = nx_now_us();

	sb->last_active_at = now;
	sb->busy_until = now + (int64_t)timeout * 1000000 + RUN_GRACE_US;
	return write_back(e, sb, NX_STATUS_ACTIVE, err);
}

static void end_run(nx_engine *e, nx_sandbox *sb)
{
	nx_error ignored;
	bool changed;

	sb->last_active_at = nx_now_us();
	sb->busy_until = 0;
	nx_store_update(e->store, sb, NX_STATUS_ACTIVE, &changed, &ignored);
}

static int local_run(nx_engine *e, const nx_context *ctx, const char *ref,
		     const nx_run_opts *opts, nx_run_result *out, nx_error *err)
{
	nx_sandbox sb = { 0 };
	nx_provider_slot *slot;
	nx_provider_run req;
	int r = -1;

	if (check_run_opts(opts, err) < 0)
		return -1;
	if (resolve(e, ctx, ref, &sb, err) < 0)
		return -1;
	req = (nx_provider_run){
		.language = opts->language,
		.code = opts->code,
		.code_len = opts->code_len,
		.timeout_seconds = opts->timeout_seconds ?
					   opts->timeout_seconds :
					   DEFAULT_TIMEOUT_SECONDS,
		.max_output = opts->max_output ? opts->max_output :
						 NX_DEFAULT_MAX_OUTPUT,
		.on_output = opts->on_output,
		.userdata = opts->userdata,
	};
	/* A run's own writes (busy until, last active) need no fsync: after
	 * a power cut the sandbox is gone anyway, and they are most of what
	 * a quick run would otherwise wait for. */
	nx_store_set_durable(e->store, false);
	if (require_status(&sb, NX_STATUS_ACTIVE, err) < 0 ||
	    provider_of(e, sb.provider, &slot, err) < 0 ||
	    begin_run(e, &sb, req.timeout_seconds, err) < 0)
		goto out;
	r = slot->p->run(slot->self, sb.handle, &req, out, err);
	if (r < 0 && err->kind == NX_E_NOTFOUND) {
		mark_gone(e, &sb);
		nx_fail(err, NX_E_STATE,
			"sandbox '%s' has ended (its container is gone); create a new one with 'nexus sandbox create'",
			sb.sandbox_id);
		goto out;
	}
	end_run(e, &sb);
out:
	nx_store_set_durable(e->store, true);
	nx_sandbox_clear(&sb);
	return r;
}

/* Ask the provider what it sees and make the row agree. */
/* What the provider said, replacing what the row held from the last
 * verify. */
static void set_provider_status(nx_sandbox *sb, const char *status)
{
	free(sb->provider_status);
	sb->provider_status = status ? nx_xstrdup(status) : NULL;
}

static void verify_one(nx_engine *e, nx_sandbox *sb)
{
	nx_provider_slot *slot;
	nx_provider_state state;
	nx_status was = sb->status;
	nx_error perr;
	bool changed;

	sb->verify_done = true;
	if (!sb->handle) {
		sb->verified = sb->status == NX_STATUS_STOPPED;
		set_provider_status(sb, sb->verified ? "stopped" : NULL);
		return;
	}
	if (provider_of(e, sb->provider, &slot, &perr) < 0 ||
	    slot->p->probe(slot->self, sb->handle, &state, &perr) < 0)
		return;
	if (was == NX_STATUS_STOPPED && state != NX_PSTATE_GONE) {
		/* A stop that died half-way left its container: finish it. */
		if (slot->p->destroy(slot->self, sb->handle, &perr) < 0)
			return;
		state = NX_PSTATE_GONE;
	}
	sb->verified = true;
	switch (state) {
	case NX_PSTATE_ACTIVE:
		set_provider_status(sb, "active");
		if (was == NX_STATUS_PAUSED) {
			sb->status = NX_STATUS_ACTIVE;
			sb->paused_at = 0;
			sb->last_active_at = nx_now_us();
		}
		break;
	case NX_PSTATE_PAUSED:
		set_provider_status(sb, "paused");
		if (was == NX_STATUS_ACTIVE) {
			sb->status = NX_STATUS_PAUSED;
			sb->paused_at = nx_now_us();
			sb->busy_until = 0;
		}
		break;
	case NX_PSTATE_GONE:
		set_provider_status(sb, "stopped");
		if (was != NX_STATUS_STOPPED) {
			sb->status = NX_STATUS_STOPPED;
			sb->stopped_at = nx_now_us();
			sb->busy_until = 0;
		}
		break;
	}
	if (sb->status != was || was != NX_STATUS_STOPPED)
		nx_store_update(e->store, sb, was, &changed, &perr);
}

static int local_status(nx_engine *e, const nx_context *ctx, const char *ref,
		        bool verify, nx_sandbox *out, nx_error *err)
{
	if (resolve(e, ctx, ref, out, err) < 0)
		return -1;
	if (verify)
		verify_one(e, out);
	return 0;
}

/* A sandbox the store knows as not stopped. */
static bool known_live(void *ud, const char *sandbox_id)
{
	nx_engine *e = ud;
	nx_sandbox sb = { 0 };
	nx_error err;
	bool found = false, live;

	/* When the store cannot answer, keep the container. */
	if (!nx_is_sandbox_id(sandbox_id) ||
	    nx_store_get(e->store, sandbox_id, &sb, &found, &err) < 0)
		return true;
	live = found && sb.status != NX_STATUS_STOPPED;
	nx_sandbox_clear(&sb);
	return live;
}

/* Remove the containers of this data directory that have no live row:
 * none, or only a stopped one.  With the create lock held exclusively no
 * create is half-way and none can start, so even a container made a moment
 * ago is a leftover (a create killed before its row). */
static void reap_leftovers(nx_engine *e)
{
	cleanup_close int lock = -1;
	int grace = ORPHAN_GRACE_SECONDS;
	nx_provider_slot *slot;
	nx_error ignored;

	if (open_create_lock(e, &lock, &ignored) == 0 &&
	    flock(lock, LOCK_EX | LOCK_NB) == 0)
		grace = 0;
	if (provider_of(e, NULL, &slot, &ignored) == 0)
		slot->p->reap(slot->self, known_live, e, grace, &ignored);
}

static int local_list(nx_engine *e, const nx_context *ctx,
		      const nx_list_filter *filter, nx_sandbox_array *out,
		      nx_error *err)
{
	nx_store_filter f = {
		.user_id = filter->user_id ? filter->user_id : ctx->user_id,
		.agent_id = filter->agent_id,
		.tenant_id = filter->tenant_id,
	};
	size_t i;

	if (!ctx->admin) {
		if (strcmp(f.user_id, ctx->user_id) != 0)
			return nx_fail(err, NX_E_FORBIDDEN,
				       "listing another user's sandboxes is for admins only");
		if (f.tenant_id && strcmp(f.tenant_id, ctx->tenant_id) != 0)
			return nx_fail(err, NX_E_FORBIDDEN,
				       "listing another tenant's sandboxes is for admins only");
		f.tenant_id = ctx->tenant_id;
	}
	if (stop_expired(e, err) < 0 || nx_store_list(e->store, &f, out, err) < 0)
		return -1;
	if (filter->verify) {
		for (i = 0; i < out->count; i++)
			verify_one(e, &out->items[i]);
		reap_leftovers(e);
	}
	return 0;
}

static int local_pause(nx_engine *e, const nx_context *ctx, const char *ref,
		       nx_sandbox *out, nx_error *err)
{
	nx_provider_slot *slot;
	nx_sandbox sb = { 0 };
	nx_error ignored;

	if (resolve(e, ctx, ref, &sb, err) < 0)
		return -1;
	if (provider_of(e, sb.provider, &slot, err) < 0)
		goto fail;
	if (!(slot->p->capabilities & NX_PROVIDER_CAN_PAUSE)) {
		nx_fail(err, NX_E_UNSUPPORTED,
			"provider '%s' does not support pause/resume; use stop to destroy the sandbox",
			slot->p->name);
		goto fail;
	}
	if (sb.status == NX_STATUS_PAUSED) {
		nx_fail(err, NX_E_STATE, "sandbox '%s' is already paused",
			sb.sandbox_id);
		goto fail;
	}
	if (require_status(&sb, NX_STATUS_ACTIVE, err) < 0)
		goto fail;
	if (slot->p->pause(slot->self, sb.handle, err) < 0) {
		if (err->kind == NX_E_NOTFOUND)
			mark_gone(e, &sb);
		goto fail;
	}
	sb.status = NX_STATUS_PAUSED;
	sb.paused_at = nx_now_us();
	sb.busy_until = 0;
	if (write_back(e, &sb, NX_STATUS_ACTIVE, err) < 0) {
		/* The row still says active (the database is locked or full):
		 * make that true again, or run and resume would both refuse
		 * the sandbox.  A lost race is the winner's to record. */
		if (err->kind == NX_E_STORE)
			slot->p->resume(slot->self, sb.handle, sb.ttl_minutes,
					&ignored);
		goto fail;
	}
	*out = sb;
	return 0;
fail:
	nx_sandbox_clear(&sb);
	return -1;
}

static int local_resume(nx_engine *e, const nx_context *ctx, const char *ref,
		        nx_sandbox *out, nx_error *err)
{
	nx_provider_slot *slot;
	nx_sandbox sb = { 0 };
	nx_error ignored;

	if (resolve(e, ctx, ref, &sb, err) < 0)
		return -1;
	if (sb.status == NX_STATUS_ACTIVE) {
		nx_fail(err, NX_E_STATE, "sandbox '%s' is not paused",
			sb.sandbox_id);
		goto fail;
	}
	if (require_status(&sb, NX_STATUS_PAUSED, err) < 0 ||
	    provider_of(e, sb.provider, &slot, err) < 0)
		goto fail;
	if (slot->p->resume(slot->self, sb.handle, sb.ttl_minutes, err) < 0) {
		if (err->kind == NX_E_NOTFOUND)
			mark_gone(e, &sb);
		goto fail;
	}
	sb.status = NX_STATUS_ACTIVE;
	sb.paused_at = 0;
	sb.last_active_at = nx_now_us();
	if (write_back(e, &sb, NX_STATUS_PAUSED, err) < 0) {
		/* The row still says paused: freeze it again, as for pause. */
		if (err->kind == NX_E_STORE)
			slot->p->pause(slot->self, sb.handle, &ignored);
		goto fail;
	}
	*out = sb;
	return 0;
fail:
	nx_sandbox_clear(&sb);
	return -1;
}

/* Stopping a stopped sandbox succeeds and changes nothing, so cleanup
 * code ("finally: stop") never fails on a sandbox that expired. */
static int local_stop(nx_engine *e, const nx_context *ctx, const char *ref,
		      nx_sandbox *out, nx_error *err)
{
	nx_provider_slot *slot;
	nx_sandbox sb = { 0 };
	nx_status was;

	if (resolve(e, ctx, ref, &sb, err) < 0)
		return -1;
	if (sb.status != NX_STATUS_STOPPED) {
		was = sb.status;
		if (sb.handle &&
		    (provider_of(e, sb.provider, &slot, err) < 0 ||
		     slot->p->destroy(slot->self, sb.handle, err) < 0))
			goto fail;
		sb.status = NX_STATUS_STOPPED;
		sb.stopped_at = nx_now_us();
		sb.busy_until = 0;
		if (write_back(e, &sb, was, err) < 0)
			goto fail;
	}
	*out = sb;
	return 0;
fail:
	nx_sandbox_clear(&sb);
	return -1;
}

/* ---- local or remote ------------------------------------------------- */

int nx_sandbox_create(nx_engine *e, const nx_context *ctx,
		      const nx_create_opts *opts, nx_sandbox *out,
		      nx_error *err)
{
	if (e->remote)
		return nx_remote_create(e->remote, opts, out, err);
	return local_create(e, ctx, opts, out, err);
}

int nx_sandbox_run(nx_engine *e, const nx_context *ctx, const char *ref,
		   const nx_run_opts *opts, nx_run_result *out, nx_error *err)
{
	if (e->remote)
		return nx_remote_run(e->remote, ref, opts, out, err);
	return local_run(e, ctx, ref, opts, out, err);
}

int nx_sandbox_list(nx_engine *e, const nx_context *ctx,
		    const nx_list_filter *filter, nx_sandbox_array *out,
		    nx_error *err)
{
	if (e->remote)
		return nx_remote_list(e->remote, filter, out, err);
	return local_list(e, ctx, filter, out, err);
}

int nx_sandbox_status(nx_engine *e, const nx_context *ctx, const char *ref,
		      bool verify, nx_sandbox *out, nx_error *err)
{
	if (e->remote)
		return nx_remote_status(e->remote, ref, verify, out, err);
	return local_status(e, ctx, ref, verify, out, err);
}

int nx_sandbox_pause(nx_engine *e, const nx_context *ctx, const char *ref,
		     nx_sandbox *out, nx_error *err)
{
	if (e->remote)
		return nx_remote_action(e->remote, ref, "pause", out, err);
	return local_pause(e, ctx, ref, out, err);
}

int nx_sandbox_resume(nx_engine *e, const nx_context *ctx, const char *ref,
		      nx_sandbox *out, nx_error *err)
{
	if (e->remote)
		return nx_remote_action(e->remote, ref, "resume", out, err);
	return local_resume(e, ctx, ref, out, err);
}

int nx_sandbox_stop(nx_engine *e, const nx_context *ctx, const char *ref,
		    nx_sandbox *out, nx_error *err)
{
	if (e->remote)
		return nx_remote_action(e->remote, ref, "stop", out, err);
	return local_stop(e, ctx, ref, out, err);
}
