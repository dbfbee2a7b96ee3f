#!/usr/bin/env bash
# firebreak's whole test suite, from a fresh clone. This is the README's test
# command and what CI runs (.ci/run). In order:
#   1. install the pinned test tools (anvil, cast, solcjs, OpenZeppelin and Safe
#      contracts, playwright-core) from tools/package-lock.json, Debian's
#      chromium, schemathesis and typos (tools/requirements.txt, in
#      target/tools-venv), Debian's postgresql (store tests), and
#      cargo-nextest and cargo-deny if missing;
#   2. cargo fmt --check, typos and cargo deny (licenses, bans, sources);
#   3. clippy -D warnings;  4. every test
#      (nextest);  5. doctests;  6. `firebreak check` on every example plan
#      (and a plain build has no crash points).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

# a clean build of every test binary takes about 4 GB under target/; a build
# that runs out of disk fails with "No space left on device" halfway through
free_kb=$(df -Pk . | awk 'NR == 2 { print $4 }')
if [ "${free_kb:-0}" -lt $((8 * 1024 * 1024)) ]; then
  printf 'warning: only %s MB free on this disk; the suite needs about 8 GB.\n' "$((free_kb / 1024))" >&2
  printf '         `cargo clean` frees what older builds left under target/.\n' >&2
fi

step "pinned test tools (npm ci --prefix tools)"
anvil=tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
if [ ! -x "$anvil" ] || ! npm ls --prefix tools --depth=0 >/dev/null 2>&1; then
  npm ci --prefix tools --no-audit --no-fund
fi
"$anvil" --version | head -1
# the browser test drives Debian's Chromium; the API property run uses schemathesis
if ! command -v chromium >/dev/null 2>&1; then
  step "installing Debian's chromium (browser test)"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get install -y --no-install-recommends chromium \
    || { $sudo apt-get update && $sudo apt-get install -y --no-install-recommends chromium; }
fi
chromium --version 2>/dev/null | head -1
# the store's PostgreSQL tests start throwaway clusters from Debian's server
# binaries; initdb refuses root, so as root they run as a system user
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  step "installing Debian's postgresql (store tests)"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get install -y --no-install-recommends postgresql \
    || { $sudo apt-get update && $sudo apt-get install -y --no-install-recommends postgresql; }
fi
if [ "$(id -u)" -eq 0 ] && ! id firebreak-pg >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin firebreak-pg
fi
ls -d /usr/lib/postgresql/*/bin | tail -1
venv=target/tools-venv
if ! "$venv/bin/schemathesis" --version >/dev/null 2>&1 || ! "$venv/bin/typos" --version >/dev/null 2>&1; then
  step "installing schemathesis and typos (tools/requirements.txt)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tools/requirements.txt
fi
export SCHEMATHESIS="$PWD/$venv/bin/schemathesis"
"$SCHEMATHESIS" --version
if ! cargo nextest --version >/dev/null 2>&1; then
  step "installing cargo-nextest"
  cargo install cargo-nextest --locked
fi
if ! cargo deny --version >/dev/null 2>&1; then
  step "installing cargo-deny"
  cargo install cargo-deny --locked
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "typos (spelling; deliberate misspellings are listed in typos.toml)"
"$venv/bin/typos"

step "cargo deny (licenses, bans, sources; deny.toml)"
cargo fetch --locked --quiet
cargo deny --offline check bans licenses sources

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "tests (nextest)"
# CI=true makes insta fail on a changed snapshot instead of writing a new one.
CI=true cargo nextest run --workspace --all-features --locked

step "doctests"
cargo test --workspace --doc --locked

step "example plans"
cargo build --quiet --locked --bin firebreak
# a build without features (as a release is) has no crash points
if ./target/debug/firebreak --version | grep -q "crash points"; then
  echo "error: a build without --features crash-points honours FIREBREAK_HALT_AT" >&2
  exit 1
fi
for plan in examples/plans/*.toml; do
  ./target/debug/firebreak check --strict "$plan"
done

step "all green"
