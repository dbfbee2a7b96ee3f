#!/usr/bin/env bash
# Fund recovery end to end on a local chain: the demo's incident, its
# attacker proposed and confirmed, the attacker's ETH traced two hops into a
# labelled bridge, a return to the recovery address, the ledger, the graph
# and an on-chain offer drafted and approved.
#
#   examples/recovery/walkthrough.sh [DIR]      (from the repository root)
#
# Needs the tools the README's set-up installs (tools/node_modules).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$(mktemp -d)}
mkdir -p "$dir"
cast=$root/tools/node_modules/@foundry-rs/cast-linux-amd64/bin/cast
export PATH=$root/tools/node_modules/@foundry-rs/anvil-linux-amd64/bin:$PATH
cargo build -q --manifest-path "$root/Cargo.toml"
fb=$root/target/debug/firebreak

# the demo: a vault, an exploit, a pause; its chain and daemon stay up
"$fb" demo --dir "$dir" --listen 127.0.0.1:0 >"$dir/demo.out" 2>&1 &
demo=$!
trap 'kill -INT $demo 2>/dev/null && wait $demo 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do grep -q '^RESULT' "$dir/demo.out" 2>/dev/null && break; sleep 1; done
grep '^RESULT' "$dir/demo.out"
rpc=$(sed -n 's/^rpc = \["ws:\/\/[^"]*", "\(http:[^"]*\)"\]/\1/p' "$dir/demo-plan.toml")

# the demo's plan with Safe Harbor terms and recovery settings
plan=$dir/recovery-plan.toml
sed 's/^roles = \["comms"\]/roles = ["comms", "liaison"]/' "$dir/demo-plan.toml" >"$plan"
cat >>"$plan" <<'TOML'

[signers.messenger]
anvil_account = 2

[safe_harbor]
bounty_percent = 10
bounty_cap_usd = 1_000_000
retainable = false
identity = "pseudonymous"
recovery = { local = "0x4000000000000000000000000000000000000004" }
contacts = [{ name = "Demo security", contact = "security@demo.example" }]

[recovery]
prices = { eth = 2000 }
labels = [{ address = "0xB0B0000000000000000000000000000000000B0B", label = "Portal bridge", kind = "bridge" }]
message_signer = "messenger"
TOML
args=(--plan "$plan" --db "$dir/demo.db")
attacker=0x14dC79964da2C08b23698B3D3cc7Ca32193d9955   # the demo's attacker (anvil account 8)
hop1=0xa0Ee7A142d267C1f36714E4a8F75612F20a79720       # anvil account 9
whitehat=0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f   # anvil account 7

echo "== attackers"
"$fb" whitehat propose 1 "${args[@]}"
"$fb" whitehat confirm 1 $attacker --as alice --note "set the price to 10^30" "${args[@]}"

echo "== the attacker moves its ETH; a white hat returns some"
"$cast" send -q --rpc-url "$rpc" --unlocked --from $attacker $hop1 --value 10ether
"$cast" send -q --rpc-url "$rpc" --unlocked --from $hop1 0xB0B0000000000000000000000000000000000B0B --value 4ether
"$cast" send -q --rpc-url "$rpc" --unlocked --from $hop1 0x1234000000000000000000000000000000005678 --value 5ether
"$cast" send -q --rpc-url "$rpc" --unlocked --from $whitehat 0x4000000000000000000000000000000000000004 --value 2ether

echo "== tracing (past blocks, as the daemon does live)"
"$fb" trace 1 "${args[@]}" --from 1 --svg "$dir/fund-flow.svg"
"$fb" trace 1 "${args[@]}"

echo "== the ledger"
"$fb" whitehat ledger 1 "${args[@]}"

echo "== an offer on chain, drafted and approved"
"$fb" whitehat message 1 --as dan "${args[@]}"
"$fb" whitehat approve 1 1 --as dan "${args[@]}"
"$fb" whitehat approve 1 1 --as alice "${args[@]}"
"$fb" whitehat show 1 "${args[@]}"
echo "files in $dir (fund-flow.svg: the graph)"
