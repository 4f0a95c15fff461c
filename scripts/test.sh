#!/usr/bin/env bash
# Set up (if needed) and run the test suite. pytest's "no tests collected" (exit 5) is a failure
# here too: a suite that runs nothing must not pass silently.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
# Browser tests drive Debian's Chromium (Playwright never downloads a browser of its own).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || exit 1
  else
    echo "chromium is not installed: run 'sudo apt-get install chromium' first" >&2; exit 1
  fi
fi
.venv/bin/python -m pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then echo "no tests were collected" >&2; exit 1; fi
exit "$rc"
