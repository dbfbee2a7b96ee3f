#!/usr/bin/env sh
# Pre-emption on a local chain: a one-transaction drain waits in anvil's
# fee-ordered pool, and firebreak's pause is mined ahead of it in the same
# block. Prints where each landed; exits non-zero if the drain was not
# pre-empted. (docs/pre-empt.md)
#
#   sh examples/pre-empt/run.sh          # one attack
#   RUNS=100 sh examples/pre-empt/run.sh # a hundred, with every miss explained
set -eu
cd "$(dirname "$0")/../.."
runs="${RUNS:-1}"
cargo run -q --release -- demo --pre-empt --runs "$runs" --exit --json --dir "${TMPDIR:-/tmp}/firebreak-pre-empt" \
  | jq '{exploit_block, pause_block, exploit_index, pause_index, exploit_status, runs, pre_empted,
         seen_to_pause_accepted_ms, not_pre_empted: [.not_pre_empted[] | {run, reason}]}'
