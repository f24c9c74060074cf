#!/bin/sh
# Debian's packages the tests need, installed with apt-get when missing: Chromium for the
# browser tests (Playwright never downloads a browser here), and nginx for the test that
# runs the service behind a TLS proxy as docs/deploy.md describes.
set -e
missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium chromium-driver"
[ -x /usr/sbin/nginx ] || missing="$missing nginx-light"
if [ -z "$missing" ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO=sudo
fi
$SUDO apt-get update -q >/dev/null
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing >/dev/null
