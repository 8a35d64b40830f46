#!/bin/bash
# build-rootfs.sh - build the root filesystem of one nexus runtime image and
# write it to stdout as a tar stream, for `docker import`:
#
#   build-rootfs.sh LANG [--mirror URL] [--suite SUITE] [--cache-dir DIR]
#                        [--work-dir DIR] | docker import - nexus-runtime:LANG
#
# LANG is a directory beside this script (default, python, javascript, bash)
# whose file "packages" names the Debian packages, one a line.  The rootfs is
# debootstrap's minbase plus those packages, with the sandbox user (uid and
# gid 1000, home /home/user), the mount points nexus uses (/.nexus, /tmp,
# /home/user) and without what a sandbox never reads (apt lists and caches,
# documentation, manual pages, translations).  Progress goes to stderr, one
# line at a time; the last line of a failed run says why.  `nexus runtime
# build` runs this script; see nexus-runtime(1).
#
# Exit status: 0 done, 1 failure, 2 usage error.
set -euo pipefail

prog=build-rootfs
default_mirror=http://deb.debian.org/debian
default_suite=trixie
default_cache_dir=/var/cache/nexus/debs
sandbox_uid=1000
sandbox_gid=1000

log() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
usage_error() {
	printf '%s: usage error: %s\n' "$prog" "$*" >&2
	printf 'usage: build-rootfs.sh LANG [--mirror URL] [--suite SUITE] [--cache-dir DIR] [--work-dir DIR]\n' >&2
	exit 2
}

# Read the whole script before running any of it: main is called on the
# last line, so editing or reinstalling this file never breaks a build
# that is running.

# ---- helpers -------------------------------------------------------------------

# Print the packages of one list, one a line, without comments.
read_packages() {
	local file=$1 name
	sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$file" |
	while IFS= read -r name; do
		case $name in
		[a-z0-9]*[!a-z0-9.+-]*|[!a-z0-9]*|?)
			die "bad package name '$name' in $file" ;;
		esac
		printf '%s\n' "$name"
	done
}

# Versions of installed packages in the rootfs (the current directory).
version_of() {
	dpkg-query --admindir=var/lib/dpkg -W -f '${Version}' "$1" 2>/dev/null || true
}

# debootstrap mounts /proc and /sys (and, inside a container, binds /dev
# nodes) under the target; a run that dies can leave them there.  Unmount
# them, deepest first, before removing anything.
umount_below() {
	local m
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' \
		/proc/self/mountinfo | sort -r |
	while IFS= read -r m; do
		umount -l "$m" || log "warning: could not unmount $m"
	done
}

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	local status=$?
	trap - EXIT HUP INT TERM PIPE
	if [ -n "$tmp" ] && [ -d "$tmp" ]; then
		umount_below "$tmp"
		# --one-file-system: never follow into anything still mounted.
		rm -rf --one-file-system "$tmp" ||
			log "warning: could not remove $tmp"
	fi
	exit "$status"
}

# ---- the steps -----------------------------------------------------------------

parse_args() {
	lang=
	mirror=${NEXUS_DEBIAN_MIRROR:-$default_mirror}
	suite=${NEXUS_DEBIAN_SUITE:-$default_suite}
	cache_dir=$default_cache_dir
	work_dir=${TMPDIR:-/var/tmp}

	while [ $# -gt 0 ]; do
		case $1 in
		--mirror|--suite|--cache-dir|--work-dir)
			[ $# -ge 2 ] || usage_error "option '$1' needs a value"
			opt=$1 val=$2
			shift 2
			;;
		--mirror=*|--suite=*|--cache-dir=*|--work-dir=*)
			opt=${1%%=*} val=${1#*=}
			shift
			;;
		-h|--help)
			printf 'usage: build-rootfs.sh LANG [--mirror URL] [--suite SUITE] [--cache-dir DIR] [--work-dir DIR]\n' >&2
			exit 0
			;;
		-*)
			usage_error "unknown option '$1'"
			;;
		*)
			[ -z "$lang" ] || usage_error "more than one runtime given ('$lang', '$1')"
			lang=$1
			shift
			continue
			;;
		esac
		case $opt in
		--mirror) mirror=$val ;;
		--suite) suite=$val ;;
		--cache-dir) cache_dir=$val ;;
		--work-dir) work_dir=$val ;;
		esac
	done

	here=$(cd "$(dirname "$0")" && pwd)

	[ -n "$lang" ] || usage_error "no runtime given"
	case $lang in
	*[!a-z0-9_-]*|-*) usage_error "bad runtime name '$lang'" ;;
	esac
	[ -f "$here/$lang/packages" ] ||
		usage_error "unknown runtime '$lang' (no $here/$lang/packages)"
	case $mirror in
	http://?*|https://?*|file:///*) ;;
	*) usage_error "bad mirror '$mirror': give an http://, https:// or file:/// url" ;;
	esac
	case $mirror in
	*[[:space:]\'\"]*) usage_error "bad mirror '$mirror': no spaces or quotes" ;;
	esac
	case $suite in
	''|*[!a-z0-9.-]*) usage_error "bad suite '$suite'" ;;
	esac
	case $cache_dir in
	/*) ;;
	*) usage_error "cache directory '$cache_dir' must be an absolute path" ;;
	esac
	case $work_dir$cache_dir in
	*[[:space:]]*) usage_error "directory names must not contain spaces" ;;
	esac
}

check_host() {
	[ "$(id -u)" -eq 0 ] ||
		die "must run as root: debootstrap needs it (try sudo)"
	export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	export LC_ALL=C DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true
	for tool in debootstrap tar chroot flock findmnt dpkg-query; do
		command -v "$tool" >/dev/null ||
			die "'$tool' not found on this host: install it (apt-get install debootstrap)"
	done
	[ ! -t 3 ] ||
		die "stdout is a terminal: pipe the tar stream into 'docker import - IMAGE'"
	[ -d "$work_dir" ] || die "work directory '$work_dir' does not exist"
	# debootstrap runs the new system's programs and device nodes from there.
	case ,$(findmnt -no OPTIONS -T "$work_dir"), in
	*,noexec,*|*,nodev,*)
		die "work directory '$work_dir' is mounted noexec or nodev: give another with --work-dir"
		;;
	esac
}

read_lists() {
	packages=$(read_packages "$here/$lang/packages")
	[ -n "$packages" ] || die "$here/$lang/packages names no package"
	if [ "$lang" = default ]; then
		# default is the union of the others: refuse to build one that drifted.
		for other in python javascript bash; do
			[ -f "$here/$other/packages" ] || continue
			for p in $(read_packages "$here/$other/packages"); do
				printf '%s\n' "$packages" | grep -qxF -- "$p" ||
					die "default/packages misses '$p' of $other/packages"
			done
		done
	fi
	include=$(printf '%s\n' "$packages" | sort -u | paste -sd, -)

	# Programs that must exist in the image, and one smoke test each.
	checks=()
	has() { printf '%s\n' "$packages" | grep -qxF -- "$1"; }
	if has python3; then
		checks+=("python3 -c 'import sys; assert sys.version_info >= (3, 12)'")
		has python3-numpy && checks+=("python3 -c 'import numpy'")
		has python3-pandas && checks+=("python3 -c 'import pandas'")
		has python3-requests && checks+=("python3 -c 'import requests'")
	fi
	has nodejs && checks+=("node -e 'process.exit(0)'")
	has jq && checks+=("echo '{\"a\":1}' | jq -e .a")
	checks+=("bash -c true")
}

make_work_dir() {
	trap cleanup EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM

	mkdir -p "$cache_dir" || die "cannot create cache directory '$cache_dir'"
	tmp=$(mktemp -d "$work_dir/nexus-rootfs-$lang.XXXXXX") ||
		die "cannot create a directory in '$work_dir'"
	rootfs=$tmp/rootfs
	mkdir "$rootfs"
}

run_debootstrap() {
	started=$(date +%s)
	# One build at a time per cache directory: debootstrap does not expect
	# another one filling the same cache.
	exec 4>"$cache_dir/.lock"
	if ! flock -n 4; then
		log "waiting for another build that uses $cache_dir"
		flock 4
	fi
	log "debootstrap $suite ($lang) from $mirror, packages cached in $cache_dir"
	# In the foreground: a Ctrl-C reaches debootstrap and its children with
	# us (a background job would ignore SIGINT).  Its lines are kept apart to
	# name the cause of a failure.  It gets neither our stdout (fd 3) nor the
	# lock (fd 4): nothing it might leave running may hold the tar stream open.
	if ! debootstrap --variant=minbase --components=main --merged-usr \
		--cache-dir="$cache_dir" --include="$include" \
		"$suite" "$rootfs" "$mirror" </dev/null 2>&1 3>&- 4>&- |
		tee "$tmp/debootstrap.out" >&2
	then
		why=$(grep -E '^(E|W): ' "$tmp/debootstrap.out" | tail -n 1 || true)
		[ -n "$why" ] || why=$(tail -n 1 "$tmp/debootstrap.out" || true)
		if [ -f "$rootfs/debootstrap/debootstrap.log" ]; then
			log "the last lines of debootstrap.log:"
			tail -n 15 "$rootfs/debootstrap/debootstrap.log" >&2 || true
		fi
		die "debootstrap failed: ${why:-no message}"
	fi
	exec 4>&-
	umount_below "$rootfs"
	log "debootstrap done in $(( $(date +%s) - started ))s"
}

make_it_nexus() {
	cd "$rootfs"
	for check in "${checks[@]}"; do
		chroot --userspec=$sandbox_uid:$sandbox_gid . /usr/bin/env -i \
			PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp LANG=C.UTF-8 \
			/bin/sh -c "$check" </dev/null >/dev/null 3>&- ||
			die "smoke test failed in the new rootfs: $check"
	done
	log "smoke tests passed: ${#checks[@]}"

	# The sandbox user.  Written directly: useradd would need more of the
	# chroot than minbase guarantees.
	if awk -F: -v u=$sandbox_uid '$3 == u { f = 1 } END { exit !f }' etc/passwd; then
		die "uid $sandbox_uid is already taken in the new rootfs"
	fi
	if awk -F: -v g=$sandbox_gid '$3 == g { f = 1 } END { exit !f }' etc/group; then
		die "gid $sandbox_gid is already taken in the new rootfs"
	fi
	printf 'user:x:%s:%s:nexus sandbox user:/home/user:/bin/bash\n' \
		$sandbox_uid $sandbox_gid >>etc/passwd
	printf 'user:x:%s:\n' $sandbox_gid >>etc/group
	[ ! -f etc/shadow ] || printf 'user:*:0:0:99999:7:::\n' >>etc/shadow
	[ ! -f etc/gshadow ] || printf 'user:!::\n' >>etc/gshadow

	# Mount points: tmpfs at /tmp and /home/user, the agent under /.nexus.
	install -d -m 0755 -o $sandbox_uid -g $sandbox_gid home/user
	install -d -m 0755 .nexus
	install -d -m 1777 tmp var/tmp
	# Docker provides /dev, /proc and /sys; leave nothing of the host's there.
	find dev proc sys -mindepth 1 -delete 2>/dev/null || true
	find run -mindepth 1 -delete 2>/dev/null || true

	# nexus bind-mounts its own copies of these read-only; these stand in when
	# the image runs without nexus, and replace the host's resolv.conf that
	# debootstrap copied in.
	for f in hosts hostname resolv.conf; do
		rm -f "etc/$f"
		install -m 0644 "$here/etc/$f" "etc/$f"
	done
	: >etc/machine-id 2>/dev/null || true

	# Shrink: nothing here is read by code in a sandbox.
	find var/lib/apt/lists var/cache/apt var/log -type f -delete
	rm -rf var/cache/debconf/*-old var/lib/dpkg/*-old debootstrap
	find usr/share/doc -mindepth 1 ! -type d ! -name copyright -delete
	find usr/share/doc -mindepth 1 -type d -empty -delete
	rm -rf usr/share/man/* usr/share/info/* usr/share/lintian usr/share/linda
	find usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias \
		-exec rm -rf {} +
	# C.utf8 is built into glibc's package; keep nothing else.
	[ ! -d usr/lib/locale ] ||
		find usr/lib/locale -mindepth 1 -maxdepth 1 ! -name C.utf8 -exec rm -rf {} +
	# The test suites of numpy and pandas: a third of the python libraries.
	for d in usr/lib/python3/dist-packages/numpy usr/lib/python3/dist-packages/pandas; do
		[ ! -d "$d" ] || find "$d" -depth -type d -name tests -exec rm -rf {} +
	done

	# Keep it small when someone builds on top of the image with apt.
	mkdir -p etc/dpkg/dpkg.cfg.d
	cat >etc/dpkg/dpkg.cfg.d/nexus-minimize <<-'EOF'
	# nexus runtime image: no documentation or translations (see nexus-runtime(1))
	path-exclude=/usr/share/doc/*
	path-include=/usr/share/doc/*/copyright
	path-exclude=/usr/share/man/*
	path-exclude=/usr/share/info/*
	path-exclude=/usr/share/locale/*
	path-include=/usr/share/locale/locale.alias
	EOF

	# A label, in the shape of /etc/os-release.
	versions=
	for p in python3 nodejs bash jq; do
		v=$(version_of "$p")
		[ -z "$v" ] || versions="$versions${versions:+ }$p=$v"
	done
	cat >etc/nexus-runtime <<-EOF
	# written by nexus build-rootfs.sh
	NEXUS_RUNTIME="$lang"
	NEXUS_SUITE="$suite"
	NEXUS_MIRROR="$mirror"
	NEXUS_BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	NEXUS_VERSIONS="$versions"
	NEXUS_PACKAGES="$(printf '%s\n' "$packages" | paste -sd' ' -)"
	EOF

	log "rootfs is $(du -sxm . | cut -f1) MB; writing the tar stream"
}

write_tar() {
	tar --numeric-owner --one-file-system --sort=name -C "$rootfs" -c . >&3
	exec 3>&-
	log "done ($lang) in $(( $(date +%s) - started ))s"
}

main() {
	# stdout carries the tar stream and nothing else: keep it as fd 3 and
	# send everything any command prints to stderr.
	exec 3>&1 1>&2
	parse_args "$@"
	check_host
	read_lists
	make_work_dir
	run_debootstrap
	make_it_nexus
	write_tar
}

tmp=
main "$@"
exit 0
