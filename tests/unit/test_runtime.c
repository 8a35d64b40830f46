/* test_runtime.c - runtime names and image references, and the build and
 * list paths against the fake engine with a stand-in build script (no
 * debootstrap, no Docker).  The build parts need root, as the real build
 * does: without it they are skipped, loudly, and fail under CI=true. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/tap.h"
#include "fake/fake_engine.h"
#include "runtime.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_names(void)
{
	ok(nx_runtime_is_builtin(NULL), "NULL is the default runtime");
	ok(nx_runtime_is_builtin("default") && nx_runtime_is_builtin("python") &&
	   nx_runtime_is_builtin("javascript") && nx_runtime_is_builtin("bash"),
	   "the four built-in names");
	ok(!nx_runtime_is_builtin("node") && !nx_runtime_is_builtin("") &&
	   !nx_runtime_is_builtin("Python"), "other names are not built in");
	is_str(nx_runtime_names[0], "default", "default comes first");

	is_str(nx_runtime_image_for(NULL), "nexus-runtime:default", "NULL maps to default");
	is_str(nx_runtime_image_for("default"), "nexus-runtime:default", "default");
	is_str(nx_runtime_image_for("python"), "nexus-runtime:python", "python");
	is_str(nx_runtime_image_for("javascript"), "nexus-runtime:javascript",
	       "javascript");
	is_str(nx_runtime_image_for("bash"), "nexus-runtime:bash", "bash");
	is_str(nx_runtime_image_for("python:3.12-slim"), "python:3.12-slim",
	       "a local image is taken as it is");
	ok(nx_runtime_image_for("") == NULL, "empty template refused");
	ok(nx_runtime_image_for("x; rm -rf /") == NULL, "shell text refused");
}

static void test_image_refs(void)
{
	static const char *const good[] = {
		"ubuntu", "ubuntu:22.04", "library/ubuntu", "a/b/c/d:T_1.x-y",
		"my_image", "my__image", "a-b---c", "a.b", "4f5228db7860",
		"localhost/x", "localhost:5000/team/img:tag",
		"registry.example.com/team/img", "Reg-1.Example.com:443/img",
		"img@sha256:" HEX64, "img:tag@sha256:" HEX64,
		"sha256:" HEX64, "nexus-runtime:python",
	};
	static const char *const bad[] = {
		"", "UPPER", "Ubuntu:1", "-x", "x-", "_x", "x_", "x.", ".x",
		"a..b", "a___b", "a//b", "/a", "a/", "x:", ":tag", "x:-t",
		"x:.t", "x/:t", "with space", "x;rm", "x$y", "x\\y",
		"img@sha256:abc", "img@md5:" HEX64, "img@",
		"host:port/x", "host:/x", "-host.com/x", "host-.com/x",
		"a.b.c:123456/x", "x:t:u", "x@sha256:" HEX64 "0",
	};
	char longref[NX_IMAGE_REF_MAX + 2];
	char longtag[160];
	size_t i;

	for (i = 0; i < NX_ARRAY_LEN(good); i++)
		ok(nx_image_ref_valid(good[i]), "valid reference '%s'", good[i]);
	for (i = 0; i < NX_ARRAY_LEN(bad); i++)
		ok(!nx_image_ref_valid(bad[i]), "invalid reference '%s'", bad[i]);
	ok(!nx_image_ref_valid(NULL), "NULL reference refused");
	ok(!nx_image_ref_valid("x\n") && !nx_image_ref_valid("x:t\n"),
	   "a newline refused");

	memset(longref, 'a', sizeof longref - 1);
	longref[NX_IMAGE_REF_MAX] = '\0';
	ok(nx_image_ref_valid(longref), "%d bytes accepted", NX_IMAGE_REF_MAX);
	longref[NX_IMAGE_REF_MAX] = 'a';
	longref[NX_IMAGE_REF_MAX + 1] = '\0';
	ok(!nx_image_ref_valid(longref), "%d bytes refused", NX_IMAGE_REF_MAX + 1);
	memcpy(longtag, "x:", 2);
	memset(longtag + 2, 't', 129);
	longtag[131] = '\0';
	ok(!nx_image_ref_valid(longtag), "a tag of 129 characters refused");
	longtag[130] = '\0';
	ok(nx_image_ref_valid(longtag), "a tag of 128 characters accepted");
}


static void test_image_error(void)
{
	nx_error err = { 0 };
	char *image = (char *)"unset";

	is_int(nx_runtime_image("bad image", &image, &err), -1,
	       "bad template fails");
	ok(image == NULL, "no image on failure");
	is_int(err.kind, NX_E_USAGE, "as a usage error");
	ok(strstr(err.msg, "invalid template 'bad image'") != NULL,
	   "naming it: %s", err.msg);
	is_int(nx_runtime_image("bash", &image, &err), 0, "bash template");
	is_str(image, "nexus-runtime:bash", "bash image");
	free(image);
}

/* ---- build, with a stand-in script ---------------------------------------- */

typedef struct progress_log {
	char lines[16][256];
	int nlines;
	int imports;
	uint64_t last_bytes;
} progress_log;

static void on_progress(void *userdata, const char *runtime,
			const char *line, uint64_t bytes)
{
	progress_log *p = userdata;

	if (!line) {
		p->imports++;
		p->last_bytes = bytes;
	} else if (p->nlines < 16) {
		snprintf(p->lines[p->nlines++], sizeof p->lines[0], "%s|%s",
			 runtime, line);
	}
}

static char script_dir[] = "/tmp/nexus-test-runtime.XXXXXX";

static void write_script(const char *body)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/build-rootfs.sh", script_dir);
	f = fopen(path, "w");
	if (!f) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(path, 0755);
}

static nx_docker *client(fake_engine *f)
{
	nx_docker *d = NULL;
	nx_error err = { 0 };

	if (nx_docker_new(fake_socket(f), &d, &err) < 0) {
		printf("Bail out! nx_docker_new: %s\n", err.msg);
		exit(1);
	}
	nx_docker_set_timeout(d, 3000);
	return d;
}

static const char import_target[] =
	"/v1.41/images/create?fromSrc=-&repo=nexus-runtime&tag=python"
	"&changes=USER%201000%3A1000"
	"&changes=WORKDIR%20%2Fhome%2Fuser"
	"&changes=ENV%20PATH%3D%2Fusr%2Flocal%2Fsbin%3A%2Fusr%2Flocal%2Fbin"
	"%3A%2Fusr%2Fsbin%3A%2Fusr%2Fbin%3A%2Fsbin%3A%2Fbin"
	"&changes=ENV%20LANG%3DC.UTF-8"
	"&changes=ENV%20HOME%3D%2Fhome%2Fuser"
	"&changes=ENV%20PYTHONUNBUFFERED%3D1"
	"&changes=CMD%20%5B%22%2Fbin%2Fbash%22%5D"
	"&changes=LABEL%20io.nexus.runtime%3Dpython"
	"&changes=LABEL%20io.nexus.suite%3Dtrixie";

static void test_build(void)
{
	fake_engine *f = fake_new();
	progress_log p = { 0 };
	nx_runtime_build_opts o = {
		.mirror = "http://mirror.invalid/debian",
		.cache_dir = "/cache",
		.runtimes_dir = script_dir,
		.progress = on_progress,
		.userdata = &p,
	};
	nx_error err = { 0 };
	nx_docker *d;
	int r;

	unsetenv("NEXUS_DEBIAN_SUITE");
	/* 1: fine */
	fake_ping(f, "1.41");
	fake_expect(f, "POST", import_target);
	fake_expect_header(f, "Content-Type: application/x-tar");
	fake_expect_body(f, "TARBYTES", 8);
	fake_reply(f, 200, NULL, "{\"status\":\"sha256:abcd\"}\r\n");
	/* 2: the script fails before its tar: no import */
	fake_ping(f, "1.41");
	/* 3: usage error from the script */
	fake_ping(f, "1.41");
	/* 4: the import fails */
	fake_ping(f, "1.41");
	fake_expect(f, "POST", import_target);
	fake_reply(f, 500, NULL, "{\"message\":\"no space left on device\"}");
	/* 5: the script is killed */
	fake_ping(f, "1.41");
	fake_start(f);
	d = client(f);

	write_script("echo \"args: $*\" >&2\n"
		     "printf 'with\\033control\\n' >&2\n"
		     "printf 'TARBYTES'\n"
		     "printf 'done, no newline' >&2");
	r = nx_runtime_build(d, "python", &o, &err);
	is_int(r, 0, "build: fine");
	if (r < 0)
		printf("# %s\n", err.msg);
	is_int(p.nlines, 3, "build: three lines");
	is_str(p.lines[0],
	       "python|args: python --mirror http://mirror.invalid/debian "
	       "--suite trixie --cache-dir /cache",
	       "build: the script's arguments");
	is_str(p.lines[1], "python|with?control", "build: control bytes masked");
	is_str(p.lines[2], "python|done, no newline", "build: a last partial line");
	ok(p.imports >= 1 && p.last_bytes == 8,
	   "build: import progress ends with the total (%d, %llu)", p.imports,
	   (unsigned long long)p.last_bytes);

	write_script("echo 'build-rootfs: debootstrap trixie' >&2\n"
		     "echo 'build-rootfs: error: debootstrap failed: E: no mirror' >&2\n"
		     "exit 1");
	memset(&p, 0, sizeof p);
	is_int(nx_runtime_build(d, "bash", &o, &err), -1, "script failure fails");
	is_int(err.kind, NX_E_SYSTEM, "script failure: a system error");
	is_str(err.msg, "cannot build runtime 'bash': debootstrap failed: E: no mirror",
	       "script failure: its last line, without the prefix");
	ok(p.imports == 0, "script failure: nothing imported");

	write_script("echo 'build-rootfs: usage error: bad mirror' >&2\nexit 2");
	is_int(nx_runtime_build(d, "bash", &o, &err), -1, "script usage error");
	is_int(err.kind, NX_E_USAGE, "script usage error: a usage error");

	write_script("echo 'build-rootfs: writing' >&2\nprintf 'TARBYTES'");
	r = nx_runtime_build(d, "python", &o, &err);
	is_int(r, -1, "import failure fails");
	ok(strstr(err.msg, "cannot import runtime 'python' into docker") &&
	   strstr(err.msg, "no space left on device"),
	   "import failure: docker's message: %s", err.msg);

	write_script("echo 'build-rootfs: working' >&2\nkill -9 $$");
	is_int(nx_runtime_build(d, "bash", &o, &err), -1, "killed script fails");
	ok(strstr(err.msg, "killed by signal 9") != NULL, "killed: %s", err.msg);

	is_int(fake_finish(f), 0, "build: the engine saw exactly the requests");
	nx_docker_free(d);
}

static void test_build_refusals(void)
{
	nx_runtime_build_opts o = { .runtimes_dir = "/nonexistent" };
	nx_error err = { 0 };

	/* None of these reaches the engine: a socket that is not there. */
	nx_docker *d = NULL;

	if (nx_docker_new("/nonexistent/docker.sock", &d, &err) < 0) {
		printf("Bail out! nx_docker_new: %s\n", err.msg);
		exit(1);
	}
	is_int(nx_runtime_build(d, "cobol", &o, &err), -1, "unknown runtime");
	is_int(err.kind, NX_E_USAGE, "unknown runtime: usage error");
	if (geteuid() == 0) {
		is_int(nx_runtime_build(d, "python", &o, &err), -1, "no script");
		ok(strstr(err.msg, "cannot run build script '/nonexistent/build-rootfs.sh'"),
		   "no script: %s", err.msg);
		o.runtimes_dir = script_dir;
		o.suite = "tri xie";
		is_int(nx_runtime_build(d, "python", &o, &err), -1, "bad suite");
		is_int(err.kind, NX_E_USAGE, "bad suite: usage error");
	} else {
		is_int(nx_runtime_build(d, "python", &o, &err), -1, "not root");
		ok(strstr(err.msg, "needs root") != NULL, "not root: %s", err.msg);
	}
	nx_docker_free(d);
}

/* ---- list -------------------------------------------------------------------- */

static void test_list(void)
{
	fake_engine *f = fake_new();
	nx_runtime_info info[NX_RUNTIME_COUNT];
	nx_error err = { 0 };
	nx_docker *d;
	char *json;

	fake_ping(f, "1.41");
	fake_expect(f, "GET", "/v1.41/images/json?filters="
		    "%7B%22reference%22%3A%5B%22nexus-runtime%22%5D%7D");
	fake_reply(f, 200, NULL,
		   "[{\"Id\":\"sha256:1\",\"RepoTags\":[\"nexus-runtime:python\"],"
		   "\"Size\":100,\"Created\":1700000000},"
		   "{\"Id\":\"sha256:3\",\"RepoTags\":[\"nexus-runtime:bash\","
		   "\"nexus-runtime:old\"],\"Size\":200,\"Created\":1700000001}]");
	fake_start(f);
	d = client(f);
	is_int(nx_runtime_list(d, info, &err), 0, "list: fine");
	ok(!info[0].built && info[0].size == 0, "list: default not built");
	ok(info[1].built && info[1].size == 100 && info[1].created == 1700000000,
	   "list: python built");
	ok(!info[2].built, "list: javascript not built");
	ok(info[3].built && info[3].size == 200, "list: bash built");
	is_str(info[3].image, "nexus-runtime:bash", "list: image name");
	json = nx_runtime_list_json(info, NX_RUNTIME_COUNT, false);
	is_str(json,
	       "[{\"name\":\"default\",\"image\":\"nexus-runtime:default\","
	       "\"built\":false,\"size\":null,\"created_at\":null},"
	       "{\"name\":\"python\",\"image\":\"nexus-runtime:python\","
	       "\"built\":true,\"size\":100,"
	       "\"created_at\":\"2023-11-14T22:13:20\"},"
	       "{\"name\":\"javascript\",\"image\":\"nexus-runtime:javascript\","
	       "\"built\":false,\"size\":null,\"created_at\":null},"
	       "{\"name\":\"bash\",\"image\":\"nexus-runtime:bash\","
	       "\"built\":true,\"size\":200,"
	       "\"created_at\":\"2023-11-14T22:13:21\"}]",
	       "list: JSON");
	free(json);
	is_int(fake_finish(f), 0, "list: the engine saw exactly the requests");
	nx_docker_free(d);
}

int main(void)
{
	const char *ci = getenv("CI");

	test_names();
	test_image_refs();
	test_image_error();
	if (!mkdtemp(script_dir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_build_refusals();
	if (geteuid() == 0) {
		test_build();
	} else if (ci && strcmp(ci, "true") == 0) {
		ok(0, "the build tests need root, and CI=true");
	} else {
		printf("ok %d # skip the build tests need root\n", ++tap_count);
	}
	test_list();
	{
		char path[256];

		snprintf(path, sizeof path, "%s/build-rootfs.sh", script_dir);
		unlink(path);
		rmdir(script_dir);
	}
	return tap_done();
}
