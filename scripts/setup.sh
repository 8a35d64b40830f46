#!/bin/sh
# setup.sh - from a fresh Debian or Ubuntu machine to a first sandbox:
# install packages, start Docker, build and install nexus, build the
# runtime images, then create a sandbox, run code in it and stop it.
set -eu
cd "$(dirname "$0")/.."
. scripts/lib.sh

install_packages
ensure_docker
build_nexus build --prefix="${PREFIX:-/usr/local}"
say "installing nexus into ${PREFIX:-/usr/local}"
(cd build && as_root make install >&2)
nexus="${PREFIX:-/usr/local}/bin/nexus"
ensure_runtimes "$nexus" default python javascript bash

say "a first sandbox"
id=$("$nexus" sandbox create first-sandbox --json | jq -r .sandbox_id)
"$nexus" sandbox run "$id" -c "import sys; print('Hello from Python', sys.version.split()[0])"
"$nexus" sandbox run "$id" -l javascript -c "console.log('Hello from Node', process.version)"
"$nexus" sandbox run "$id" -l bash -c 'echo "Hello from $(bash --version | head -n1)"'
"$nexus" sandbox stop "$id"
say "nexus is ready: see 'man nexus'"
