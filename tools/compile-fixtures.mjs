// Compiles firebreak's fixture contracts with solcjs (npm `solc`, pinned in
// package.json) and writes {abi, bytecode} per contract.
//
//   node tools/compile-fixtures.mjs            # regenerate crates/devnet/fixtures/
//   node tools/compile-fixtures.mjs --check    # exit 1 if the committed files are stale
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const tools = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(tools, "package.json"));
const solc = require("solc");
const root = resolve(tools, "..");
const srcDir = join(root, "crates/devnet/contracts");
const outDir = join(root, "crates/devnet/fixtures");
// [source file, contract]
const contracts = [
  ["MockUSDC", "MockUSDC"],
  ["LendingVault", "LendingVault"],
  ["SafeHarborV3", "AgreementV3"],
  ["SafeHarborV3", "SafeHarborRegistryV3"],
  ["SafeHarborLegacy", "AgreementV2"],
  ["SafeHarborLegacy", "SafeHarborRegistryV2"],
  ["SafeHarborLegacy", "AgreementV1"],
  ["SafeHarborLegacy", "SafeHarborRegistryV1"],
  ["MockPriceFeed", "MockPriceFeed"],
  ["UpgradeableTreasury", "UpgradeableTreasury"],
  ["UpgradeableTreasury", "MaliciousTreasury"],
  ["UpgradeableTreasury", "TreasuryProxy"],
  ["Drainer", "Drainer"],
];

const sources = {};
for (const [file] of contracts) {
  sources[`${file}.sol`] = { content: readFileSync(join(srcDir, `${file}.sol`), "utf8") };
}
const input = {
  language: "Solidity",
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "cancun",
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};
function findImports(path) {
  const file = join(tools, "node_modules", path);
  return existsSync(file) ? { contents: readFileSync(file, "utf8") } : { error: `not found: ${path}` };
}
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (output.errors || []).filter((e) => e.severity === "error");
if (errors.length) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
const check = process.argv.includes("--check");
let stale = false;
for (const [file, name] of contracts) {
  const c = output.contracts[`${file}.sol`][name];
  const text = JSON.stringify(
    { compiler: `solc ${solc.version()}`, abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` },
    null,
    1,
  ) + "\n";
  const out = join(outDir, `${name}.json`);
  if (check) {
    if (!existsSync(out) || readFileSync(out, "utf8") !== text) {
      console.error(`stale fixture: ${out} (run: node tools/compile-fixtures.mjs)`);
      stale = true;
    }
  } else {
    writeFileSync(out, text);
    console.log(`wrote ${out}`);
  }
}
process.exit(stale ? 1 : 0);
