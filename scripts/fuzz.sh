#!/bin/sh
# fuzz.sh - fuzz each parser that reads bytes nexus does not control, for a
# set time, with libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   scripts/fuzz.sh [--seconds N] [--max-len BYTES] [--out DIR] [HARNESS...]
#
# HARNESS is agent_proto, mux, run_json, docker_reply, e2b or server
# (default: all of them, one after the other, N seconds each, default 60).
# The harnesses (tests/fuzz/fuzz_*.c) and the library sources they need are
# built with clang in DIR (default build-fuzz, apart from any autotools
# build); each runs on a copy of its corpus (tests/fuzz/corpus/HARNESS), so
# the tree is never changed, on
# inputs of at most BYTES (default 8192: the 64 KiB seeds would make every
# run 20 times slower; make check replays them whole).  Prints
# one line per harness: executions, executions per second, new corpus
# entries, crashes; exits non-zero on any crash.  Crashing inputs are kept
# in DIR/crashes/HARNESS/.  Installs clang, libFuzzer and the libraries
# libnexus uses with apt-get when they are missing.  See docs/fuzzing.md.
set -eu
cd "$(dirname "$0")/.."
top=$PWD
. scripts/lib.sh

seconds=60
max_len=8192
out=$top/build-fuzz
all="agent_proto mux run_json docker_reply e2b server"
harnesses=

usage() {
	echo "usage: scripts/fuzz.sh [--seconds N] [--max-len BYTES] [--out DIR]" \
		"[agent_proto|mux|run_json|docker_reply|e2b|server]..." >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) [ $# -ge 2 ] || usage; seconds=$2; shift 2 ;;
	--seconds=*) seconds=${1#--seconds=}; shift ;;
	--max-len) [ $# -ge 2 ] || usage; max_len=$2; shift 2 ;;
	--max-len=*) max_len=${1#--max-len=}; shift ;;
	--out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
	--out=*) out=${1#--out=}; shift ;;
	-h | --help) usage ;;
	agent_proto | mux | run_json | docker_reply | e2b | server)
		harnesses="$harnesses $1"; shift ;;
	*) usage ;;
	esac
done
case "$seconds" in '' | *[!0-9]*) die "--seconds wants a whole number" ;; esac
[ "$seconds" -ge 1 ] || die "--seconds wants at least 1"
case "$max_len" in '' | *[!0-9]*) die "--max-len wants a whole number" ;; esac
[ -n "$harnesses" ] || harnesses=$all
case "$out" in /*) ;; *) out=$top/$out ;; esac

# ---- clang with libFuzzer ----------------------------------------------------
CC=${CC:-clang}
case "$CC" in *clang*) ;; *) CC=clang ;; esac

apt_install() {
	say "installing: $*"
	as_root apt-get update -q >&2
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2
}

links_fuzzer() {
	mkdir -p "$out"
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
		>"$out/probe.c"
	"$CC" -fsanitize=fuzzer,address,undefined "$out/probe.c" \
		-o "$out/probe" >/dev/null 2>&1
}

command -v "$CC" >/dev/null 2>&1 || apt_install clang
packages="json-c libcurl sqlite3 nettle libmicrohttpd"
if ! command -v pkg-config >/dev/null 2>&1 ||
	! pkg-config --exists $packages 2>/dev/null; then
	apt_install pkg-config libjson-c-dev libcurl4-openssl-dev \
		libsqlite3-dev nettle-dev libmicrohttpd-dev
fi
if ! links_fuzzer; then
	# Debian 12 and later ship libFuzzer in libclang-rt-MAJOR-dev.
	major=$("$CC" -dumpversion | cut -d. -f1)
	apt_install "libclang-rt-$major-dev"
	links_fuzzer || die "$CC cannot link -fsanitize=fuzzer (see $out/probe.c)"
fi

# ---- build ---------------------------------------------------------------------
# libnexus, as the unit tests link it (every symbol visible); what
# config.h would say comes on the command line.  The harnesses call only
# its parsers, never the Docker engine.
lib_sources=$(cd "$top" && echo src/*.c src/docker/*.c)
cflags="-std=c11 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
-fno-sanitize-recover=all -D_GNU_SOURCE -DNX_TESTING -I$top/src -I$top/tests \
-DPACKAGE_VERSION=\"fuzz\" -DNX_LIBCURL_SONAME=\"libcurl.so.4\" \
-DNX_PKGDATADIR=\"/nonexistent\" -DNX_PKGLIBEXECDIR=\"/nonexistent\" \
-DNX_PKGLIBDIR=\"/nonexistent\" \
$(pkg-config --cflags $packages) -Wall -Wextra -Wno-unused-parameter"
libs="$(pkg-config --libs json-c sqlite3 nettle libmicrohttpd) -ldl -lpthread -lm"

say "building the harnesses with $CC in $out"
mkdir -p "$out/obj"
objs=
for src in $lib_sources; do
	obj=$out/obj/$(echo "$src" | tr / _ | sed 's/\.c$/.o/')
	# shellcheck disable=SC2086
	"$CC" $cflags -fsanitize=fuzzer-no-link -c "$top/$src" -o "$obj"
	objs="$objs $obj"
done
# Code a harness needs beyond libnexus: the e2b plugin's parsers, the
# server's API layer.
extra_sources() {
	case "$1" in
	e2b) echo "$top/providers/e2b/e2b_parse.c" ;;
	server) echo "$top/src/server/api.c" ;;
	esac
}
for h in $harnesses; do
	# shellcheck disable=SC2046,SC2086
	"$CC" $cflags -fsanitize=fuzzer "$top/tests/fuzz/fuzz_$h.c" \
		$(extra_sources "$h") $objs $libs -o "$out/fuzz_$h"
done

# ---- run -------------------------------------------------------------------------
ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS

status=0
table=$out/table.txt
printf '%-14s %12s %10s %12s %8s\n' harness executions execs/s new-entries crashes >"$table"
for h in $harnesses; do
	corpus=$out/corpus/$h
	crashes=$out/crashes/$h
	log=$out/fuzz_$h.log
	rm -rf "$corpus" "$crashes"
	mkdir -p "$corpus" "$crashes"
	cp "$top/tests/fuzz/corpus/$h/"* "$corpus/"
	before=$(find "$corpus" -type f | wc -l)
	say "fuzzing $h for $seconds s (log: $log)"
	rc=0
	# A harness's temporary files (server: its stores) go in a TMPDIR of
	# its own, removed after: a crash skips the harness's own cleanup.
	tmp=$out/tmp/$h
	rm -rf "$tmp"
	mkdir -p "$tmp"
	TMPDIR=$tmp "$out/fuzz_$h" -max_total_time="$seconds" -timeout=10 \
		-max_len="$max_len" -print_final_stats=1 \
		-artifact_prefix="$crashes/" \
		"$corpus" >"$log" 2>&1 || rc=$?
	rm -rf "$tmp"
	after=$(find "$corpus" -type f | wc -l)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	ncrash=$(find "$crashes" -type f | wc -l)
	if [ "$rc" -ne 0 ] && [ "$ncrash" -eq 0 ]; then
		ncrash=1   # died without leaving an input: see the log
	fi
	if [ "$ncrash" -gt 0 ]; then
		status=1
		echo "--- $h: crash (exit $rc); inputs in $crashes, log $log" >&2
		grep -m 5 -E 'ERROR: |invariant broken|runtime error' "$log" >&2 || true
	fi
	printf '%-14s %12s %10s %12s %8s\n' "$h" "${execs:-?}" "${rate:-?}" \
		"$((after - before))" "$ncrash" >>"$table"
done
cat "$table"
exit "$status"
