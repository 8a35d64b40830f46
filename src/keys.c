/* keys.c - API keys of nexus serve.
 *
 * A key is "nxk_", a 12-character key id, "_" and 64 hex digits of secret
 * (32 bytes from the kernel's CSPRNG).  The store keeps the key id, which
 * names the key in listings, and the SHA-256 of the whole key; a request's
 * key is looked up by its id and its hash compared in constant time.  A
 * plain hash, not a password KDF: the secret has 256 bits of entropy, so
 * nothing is gained by making each guess slower. */
#include <nettle/sha2.h>
#include <string.h>

#include "store.h"

#define KEY_PREFIX "nxk_"
#define KEY_PREFIX_LEN 4
#define SECRET_BYTES 32
#define KEY_LEN (KEY_PREFIX_LEN + NX_KEY_ID_LEN + 1 + 2 * SECRET_BYTES)
#define MAX_IDENTITY_LEN 128
#define INVALID_KEY "invalid or revoked API key"

static void hex(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static void key_hash(const char *key, char out[NX_KEY_HASH_LEN + 1])
{
	unsigned char digest[SHA256_DIGEST_SIZE];
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, strlen(key), (const uint8_t *)key);
	sha256_digest(&ctx, sizeof digest, digest);
	hex(digest, sizeof digest, out);
}

/* Equal without an early exit, so the time taken says nothing about how
 * much of a guess was right. */
static bool same_hash(const char *a, const char *b)
{
	unsigned char diff = 0;
	size_t i;

	for (i = 0; i < NX_KEY_HASH_LEN; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

/* The key id of a well-formed key, else false. */
static bool key_id_of(const char *key, char id[NX_KEY_ID_LEN + 1])
{
	size_t i;

	if (strlen(key) != KEY_LEN || strncmp(key, KEY_PREFIX, KEY_PREFIX_LEN) ||
	    key[KEY_PREFIX_LEN + NX_KEY_ID_LEN] != '_')
		return false;
	for (i = 0; i < NX_KEY_ID_LEN; i++) {
		id[i] = key[KEY_PREFIX_LEN + i];
		if (!((id[i] >= 'a' && id[i] <= 'z') ||
		      (id[i] >= '0' && id[i] <= '9')))
			return false;
	}
	id[NX_KEY_ID_LEN] = '\0';
	for (i = KEY_PREFIX_LEN + NX_KEY_ID_LEN + 1; i < KEY_LEN; i++)
		if (!((key[i] >= '0' && key[i] <= '9') ||
		      (key[i] >= 'a' && key[i] <= 'f')))
			return false;
	return true;
}

/* Keys live in this machine's store, never behind a NEXUS_URL. */
static nx_store *store_of(nx_engine *e, nx_error *err)
{
	nx_store *s = nx_engine_store(e);

	if (!s)
		nx_fail(err, NX_E_UNSUPPORTED,
			"API keys are managed on the server's own machine");
	return s;
}

static int check_identity(const char *what, const char *value, bool required,
			  nx_error *err)
{
	if (!value && !required)
		return 0;
	if (!value || !nx_is_clean_text(value, MAX_IDENTITY_LEN))
		return nx_fail(err, NX_E_USAGE,
			       "a key's %s must be 1 to %d bytes of printable UTF-8",
			       what, MAX_IDENTITY_LEN);
	return 0;
}

int nx_key_create(nx_engine *e, const char *user_id, const char *tenant_id,
		  const char *agent_id, bool admin, char **key, nx_key_info *out,
		  nx_error *err)
{
	unsigned char secret[SECRET_BYTES];
	char hash[NX_KEY_HASH_LEN + 1], secret_hex[2 * SECRET_BYTES + 1];
	nx_key_info k = { .admin = admin };

	*key = NULL;
	if (!tenant_id)
		tenant_id = "default";
	if (check_identity("user", user_id, true, err) < 0 ||
	    check_identity("tenant", tenant_id, true, err) < 0 ||
	    check_identity("agent", agent_id, false, err) < 0)
		return -1;
	nx_random_id(k.key_id, NX_KEY_ID_LEN);
	nx_random_bytes(secret, sizeof secret);
	hex(secret, sizeof secret, secret_hex);
	*key = nx_xasprintf(KEY_PREFIX "%s_%s", k.key_id, secret_hex);
	key_hash(*key, hash);
	k.user_id = nx_xstrdup(user_id);
	k.tenant_id = nx_xstrdup(tenant_id);
	k.agent_id = agent_id ? nx_xstrdup(agent_id) : NULL;
	k.created_at = nx_now_us();
	if (!store_of(e, err) ||
	    nx_store_key_insert(nx_engine_store(e), &k, hash, err) < 0) {
		nx_key_info_clear(&k);
		free(*key);
		*key = NULL;
		return -1;
	}
	*out = k;
	return 0;
}

int nx_key_list(nx_engine *e, nx_key_info_array *out, nx_error *err)
{
	nx_store *s = store_of(e, err);

	out->items = NULL;
	out->count = 0;
	return s ? nx_store_key_list(s, out, err) : -1;
}

int nx_key_revoke(nx_engine *e, const char *key_id, nx_key_info *out,
		  nx_error *err)
{
	nx_store *s = store_of(e, err);
	bool found;

	memset(out, 0, sizeof *out);
	if (!s || nx_store_key_get(s, key_id, out, NULL, &found, err) < 0)
		return -1;
	if (!found)
		return nx_fail(err, NX_E_NOTFOUND,
			       "no API key '%.40s' (see 'nexus admin key list')",
			       key_id);
	if (out->revoked_at)
		return 0;
	nx_key_info_clear(out);
	if (nx_store_key_revoke(s, key_id, nx_now_us(), err) < 0 ||
	    nx_store_key_get(s, key_id, out, NULL, &found, err) < 0)
		return -1;
	return 0;
}

int nx_key_count(nx_engine *e, int *count, nx_error *err)
{
	nx_store *s = store_of(e, err);

	return s ? nx_store_key_count(s, count, err) : -1;
}

int nx_key_authenticate(nx_engine *e, const char *key, nx_key_info *out,
			nx_error *err)
{
	char id[NX_KEY_ID_LEN + 1], want[NX_KEY_HASH_LEN + 1];
	char stored[NX_KEY_HASH_LEN + 1];
	bool found;

	memset(out, 0, sizeof *out);
	if (!key || !key_id_of(key, id))
		return nx_fail(err, NX_E_AUTH, INVALID_KEY);
	if (!store_of(e, err) ||
	    nx_store_key_get(nx_engine_store(e), id, out, stored, &found,
			     err) < 0)
		return -1;
	key_hash(key, want);
	if (!found || !same_hash(want, stored) || out->revoked_at) {
		nx_key_info_clear(out);
		return nx_fail(err, NX_E_AUTH, INVALID_KEY);
	}
	return 0;
}

void nx_key_info_clear(nx_key_info *k)
{
	free(k->user_id);
	free(k->tenant_id);
	free(k->agent_id);
	memset(k, 0, sizeof *k);
}

void nx_key_info_array_clear(nx_key_info_array *list)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		nx_key_info_clear(&list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}
