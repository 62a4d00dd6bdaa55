#!/usr/bin/env bash
# The HTML report's test opens it in a real headless browser: Debian's chromium, installed here when missing
# (as root, with apt). Without it the test checks the page's HTML only, and says so.
set -uo pipefail
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the report's browser test..."
  (apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; }) \
    || echo "Could not install chromium; the report test will check the HTML without a browser."
fi
