/* paths.h - where nexus keeps and finds things.  Each path has a
 * compiled-in default from ./configure and an environment override, so
 * the test suite can run an uninstalled build. */
#ifndef NX_PATHS_H
#define NX_PATHS_H

#include "util.h"

/* $NEXUS_DATA_DIR, else $XDG_DATA_HOME/nexus, else $HOME/.local/share/nexus. */
NX_HIDDEN int nx_data_dir(char **out, nx_error *err);
/* The state database: $NEXUS_DATABASE_URL when it is a sqlite:///PATH URL,
 * else DATA_DIR/nexus.db.  Any other URL is an error: this build keeps
 * state in SQLite only. */
NX_HIDDEN int nx_database_path(const char *data_dir, char **out,
			       nx_error *err);
/* $NEXUS_AGENT, else PKGLIBEXECDIR/nexus-agent. */
NX_HIDDEN const char *nx_agent_path(void);
/* $NEXUS_SECCOMP_DIR, else PKGDATADIR/seccomp. */
NX_HIDDEN const char *nx_seccomp_dir(void);
/* Where provider plugins (NAME.so) are: NEXUS_PLUGIN_DIR, or the installed
 * one. */
NX_HIDDEN const char *nx_plugin_dir(void);
/* The program 'nexus serve' runs: NEXUS_SERVER, or the installed one. */
NX_HIDDEN const char *nx_server_path(void);
/* $NEXUS_RUNTIMES_DIR, else PKGDATADIR/runtimes. */
NX_HIDDEN const char *nx_runtimes_dir(void);
/* Make dir and its parents, the last one with the given mode. */
NX_HIDDEN int nx_mkdir_p(const char *dir, unsigned mode, nx_error *err);

#endif
