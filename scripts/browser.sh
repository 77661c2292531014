#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (tests/ui) when it is missing.
# Playwright drives it with executable_path=/usr/bin/chromium: Playwright's own browser
# download cannot reach its CDN from these machines. Needs root (CI runs as root); without
# root or without the package mirror, it says why and the browser tests skip.
set -u
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "chromium is missing and this is not root: run 'apt-get install -y chromium' (the browser tests will skip)" >&2
  exit 0
fi
echo "installing chromium (apt)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; } >/tmp/portico-chromium-install.log 2>&1; then
  echo "could not install chromium (see /tmp/portico-chromium-install.log); the browser tests will skip" >&2
fi
exit 0
