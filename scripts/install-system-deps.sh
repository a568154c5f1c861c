#!/usr/bin/env bash
# The system packages the test suites need (the browser tests drive Chromium, the Colab script's
# test runs shellcheck, its clone test runs git), installed with apt-get on Debian/Ubuntu as root
# or through sudo. Does nothing when they are all there. The README's test command runs it first.
#
#   bash scripts/install-system-deps.sh           install what is missing
#   bash scripts/install-system-deps.sh --check   only check: one line naming what is missing, exit 1
#
# EASEL_CHROMIUM=/path/to/chrome counts as Chromium (e.g. on Ubuntu, whose chromium is a snap).
set -euo pipefail

# command:package, one per tool the tests run (scripts/system-deps.test.ts keeps this list whole).
DEPS=(chromium:chromium shellcheck:shellcheck git:git)
INSTALL_HINT="bash scripts/install-system-deps.sh"

have() {
  case "$1" in
    chromium)
      [ -n "${EASEL_CHROMIUM:-}" ] && [ -x "${EASEL_CHROMIUM}" ] && return 0
      command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1
      ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

missing=()
for dep in "${DEPS[@]}"; do
  have "${dep%%:*}" || missing+=("${dep#*:}")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "${1:-}" = "--check" ]; then
  echo "missing system packages: ${missing[*]}; install them with: $INSTALL_HINT (apt-get as root or through sudo)" >&2
  exit 1
fi

if [ "$(id -u)" = "0" ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "missing system packages: ${missing[*]}; run as root: apt-get install -y ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing system packages: ${missing[*]}; this is not a Debian/Ubuntu system: install them with its package manager" >&2
  exit 1
fi
# Ubuntu names Debian's chromium package chromium-browser.
if [ -r /etc/os-release ] && [[ $'\n'"$(</etc/os-release)" == *$'\n'ID=ubuntu* ]]; then
  for i in "${!missing[@]}"; do [ "${missing[$i]}" = chromium ] && missing[i]=chromium-browser; done
fi
echo "installing ${missing[*]} with apt-get" >&2
"${as_root[@]+"${as_root[@]}"}" apt-get update -qq
"${as_root[@]+"${as_root[@]}"}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
