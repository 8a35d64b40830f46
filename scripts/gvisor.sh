#!/bin/sh
# gvisor.sh - make "nexus sandbox create --isolation gvisor" work on this
# machine: install gVisor's runsc (Debian's package) and register it with
# the Docker engine as runtime "runsc", with the flags that work here (see
# ensure_gvisor in scripts/lib.sh).  Safe to run again.
set -eu
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_docker
ensure_gvisor
say "gVisor is registered: nexus sandbox create NAME --isolation gvisor"
