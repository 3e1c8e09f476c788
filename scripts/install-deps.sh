#!/bin/sh
# install-deps.sh [--test] — the Debian 12 packages AutoMLGen needs to
# build and run (as root, or with sudo): the toolchain and libraries, the
# Python that candidate scripts run under (scikit-learn, XGBoost, PyTorch
# for CPU, PIL), R's modeldata for two example tasks, bubblewrap.  With
# --test also what only the tests use: chromium (headless, renders
# `automlgen report`'s page in tests/check_report_browser.c) and a Slurm
# controller and node (tests/check_slurm.c starts a one-node cluster).
set -eu
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
extra=
[ "${1:-}" = --test ] && extra="chromium slurmctld slurmd slurm-client munge"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends \
	build-essential autoconf automake libtool pkg-config \
	libyaml-dev libcurl4-openssl-dev libjson-c-dev check \
	python3 python3-numpy python3-pandas python3-sklearn python3-xgboost \
	r-cran-modeldata python3-pil python3-torch \
	bubblewrap ca-certificates $extra >/dev/null
