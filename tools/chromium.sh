#!/bin/sh
# The browser tests drive Debian's Chromium (tests/test_browser.py); install it with
# apt-get when it is missing. Playwright never downloads a browser here.
set -e
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO=sudo
fi
$SUDO apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium chromium-driver >/dev/null
