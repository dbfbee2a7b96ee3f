//! Presets: families of admin events a team always wants to know about.

use alloy_json_abi::Event;

/// A named set of events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preset {
    /// Name as written in rules.
    pub name: &'static str,
    /// The events (decoding tried with these ABIs).
    pub events: Vec<Event>,
}

/// Preset names, for suggestions.
pub const PRESET_NAMES: [&str; 7] = [
    "admin_changes",
    "ownership",
    "roles",
    "upgrades",
    "pause_changes",
    "safe_changes",
    "safe_transactions",
];

const OWNERSHIP: &[&str] =
    &["event OwnershipTransferred(address indexed previousOwner, address indexed newOwner)"];
const ROLES: &[&str] = &[
    "event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender)",
    "event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender)",
    "event RoleAdminChanged(bytes32 indexed role, bytes32 indexed previousAdminRole, bytes32 indexed newAdminRole)",
];
const UPGRADES: &[&str] = &[
    "event Upgraded(address indexed implementation)",
    "event AdminChanged(address previousAdmin, address newAdmin)",
    "event BeaconUpgraded(address indexed beacon)",
];
const PAUSES: &[&str] = &["event Paused(address account)", "event Unpaused(address account)"];
const SAFE: &[&str] = &[
    "event AddedOwner(address indexed owner)",
    "event RemovedOwner(address indexed owner)",
    "event ChangedThreshold(uint256 threshold)",
    "event EnabledModule(address indexed module)",
    "event DisabledModule(address indexed module)",
    "event ChangedGuard(address indexed guard)",
    "event ChangedModuleGuard(address indexed moduleGuard)",
    "event ChangedFallbackHandler(address indexed handler)",
];

/// A Safe's transactions: an owner approving a hash on chain, an
/// execution (its SafeTx hash), and SafeL2's full record of each execution
/// (`operation` 1 is a DELEGATECALL to `to`).
const SAFE_TXS: &[&str] = &[
    "event ApproveHash(bytes32 indexed approvedHash, address indexed owner)",
    "event ExecutionSuccess(bytes32 indexed txHash, uint256 payment)",
    "event ExecutionFailure(bytes32 indexed txHash, uint256 payment)",
    "event SafeMultiSigTransaction(address to, uint256 value, bytes data, uint8 operation, uint256 safeTxGas, uint256 baseGas, uint256 gasPrice, address gasToken, address refundReceiver, bytes signatures, bytes additionalInfo)",
];

/// The SafeTx hash a [`SAFE_TXS`] log names (`approvedHash`, `txHash`):
/// its first topic after the signature, for the first three events.
pub fn safe_tx_hash_of(topics: &[alloy_primitives::B256]) -> Option<alloy_primitives::B256> {
    use std::sync::LazyLock;
    static SELECTORS: LazyLock<Vec<alloy_primitives::B256>> = LazyLock::new(|| {
        SAFE_TXS[..3]
            .iter()
            .map(|s| Event::parse(s).expect("preset signatures are valid Solidity").selector())
            .collect()
    });
    match topics {
        [t0, hash, ..] if SELECTORS.contains(t0) => Some(*hash),
        _ => None,
    }
}

/// Looks a preset up by name.
pub fn preset(name: &str) -> Option<Preset> {
    let (name, groups): (&'static str, Vec<&[&str]>) = match name {
        "admin_changes" => ("admin_changes", vec![OWNERSHIP, ROLES, UPGRADES, PAUSES, SAFE]),
        "ownership" => ("ownership", vec![OWNERSHIP]),
        "roles" => ("roles", vec![ROLES]),
        "upgrades" => ("upgrades", vec![UPGRADES]),
        "pause_changes" => ("pause_changes", vec![PAUSES]),
        "safe_changes" => ("safe_changes", vec![SAFE]),
        "safe_transactions" => ("safe_transactions", vec![SAFE_TXS]),
        _ => return None,
    };
    let events = groups
        .into_iter()
        .flatten()
        .map(|sig| Event::parse(sig).expect("preset signatures are valid Solidity"))
        .collect();
    Some(Preset { name, events })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_parses() {
        for name in PRESET_NAMES {
            assert!(!preset(name).unwrap().events.is_empty(), "{name}");
        }
        assert!(preset("nope").is_none());
    }
}
