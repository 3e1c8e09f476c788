#!/bin/sh
# quickstart.sh — on a fresh Debian 12 machine: install the dependencies,
# build and install AutoMLGen, make the example tasks, and run the search
# offline on one of them (default: iris).
set -eu
task=${1:-iris}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
sh scripts/install-deps.sh
[ -x configure ] || autoreconf -fi
mkdir -p _build
cd _build
[ -f Makefile ] || ../configure --prefix=/usr/local
make -j"$(nproc)"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO make install
cd "$here"
/usr/bin/python3 scripts/make-example-tasks.py examples/tasks
automlgen run "examples/tasks/$task"
