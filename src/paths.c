/* paths.c - default locations and their environment overrides. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "paths.h"

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return v && *v ? v : fallback;
}

int nx_data_dir(char **out, nx_error *err)
{
	const char *dir = getenv("NEXUS_DATA_DIR");
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");

	if (dir && *dir) {
		if (dir[0] != '/')
			return nx_fail(err, NX_E_USAGE,
				       "NEXUS_DATA_DIR must be an absolute path, not '%s'",
				       dir);
		*out = nx_xstrdup(dir);
	} else if (xdg && xdg[0] == '/') {
		*out = nx_xasprintf("%s/nexus", xdg);
	} else if (home && home[0] == '/') {
		*out = nx_xasprintf("%s/.local/share/nexus", home);
	} else {
		return nx_fail(err, NX_E_USAGE,
			       "cannot choose a data directory: set NEXUS_DATA_DIR or HOME");
	}
	return 0;
}

int nx_database_path(const char *data_dir, char **out, nx_error *err)
{
	static const char scheme[] = "sqlite://";
	const char *url = getenv("NEXUS_DATABASE_URL");

	if (!url || !*url) {
		*out = nx_xasprintf("%s/nexus.db", data_dir);
		return 0;
	}
	if (strncmp(url, scheme, sizeof scheme - 1) != 0 ||
	    url[sizeof scheme - 1] != '/')
		return nx_fail(err, NX_E_USAGE,
			       "NEXUS_DATABASE_URL must be sqlite:///PATH: this nexus keeps its state in SQLite only (unset it to use NEXUS_DATA_DIR)");
	*out = nx_xstrdup(url + sizeof scheme - 1);
	return 0;
}

const char *nx_agent_path(void)
{
	return env_or("NEXUS_AGENT", NX_PKGLIBEXECDIR "/nexus-agent");
}

const char *nx_seccomp_dir(void)
{
	return env_or("NEXUS_SECCOMP_DIR", NX_PKGDATADIR "/seccomp");
}

const char *nx_server_path(void)
{
	return env_or("NEXUS_SERVER", NX_PKGLIBEXECDIR "/nexus-server");
}

const char *nx_plugin_dir(void)
{
	return env_or("NEXUS_PLUGIN_DIR", NX_PKGLIBDIR "/providers");
}

const char *nx_runtimes_dir(void)
{
	return env_or("NEXUS_RUNTIMES_DIR", NX_PKGDATADIR "/runtimes");
}

int nx_mkdir_p(const char *dir, unsigned mode, nx_error *err)
{
	cleanup_free char *path = nx_xstrdup(dir);
	char *p;

	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return nx_fail_errno(err, NX_E_SYSTEM, errno,
					     "cannot create directory '%s'", path);
		*p = '/';
	}
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return nx_fail_errno(err, NX_E_SYSTEM, errno,
				     "cannot create directory '%s'", path);
	return 0;
}
