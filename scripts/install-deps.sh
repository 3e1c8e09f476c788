#!/bin/sh
# install-deps.sh — the Debian 12 packages AutoMLGen needs to build, test
# and run (as root, or with sudo).  chromium is for the test that renders
# `automlgen report`'s HTML headless (tests/check_report_browser.c).
set -eu
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
	build-essential autoconf automake libtool pkg-config \
	libyaml-dev libcurl4-openssl-dev libjson-c-dev check \
	python3 python3-numpy python3-pandas python3-sklearn python3-xgboost \
	r-cran-modeldata python3-pil python3-torch \
	bubblewrap ca-certificates chromium >/dev/null
