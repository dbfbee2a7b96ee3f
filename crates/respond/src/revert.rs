//! Turning revert data into words: `Error(string)`, `Panic(uint256)` and the
//! custom errors of the contract's ABI (OpenZeppelin's
//! `AccessControlUnauthorizedAccount`, `EnforcedPause` …).

use alloy_dyn_abi::{DynSolValue, JsonAbiExt as _};
use alloy_json_abi::JsonAbi;
use alloy_primitives::hex;
use alloy_sol_types::SolError as _;

/// Describes `data` returned by a reverted call.
pub fn decode_revert(data: &[u8], abis: &[&JsonAbi]) -> String {
    if data.is_empty() {
        return "reverted without a reason".to_owned();
    }
    if let Ok(e) = alloy_sol_types::Revert::abi_decode(data) {
        return format!("Error({:?})", e.reason);
    }
    if let Ok(p) = alloy_sol_types::Panic::abi_decode(data) {
        return format!("Panic({})", p.code);
    }
    if data.len() >= 4 {
        for abi in abis {
            for error in abi.errors() {
                if error.selector().as_slice() == &data[..4]
                    && let Ok(values) = error.abi_decode_input(&data[4..])
                {
                    let args: Vec<String> = values.iter().map(show).collect();
                    return format!("{}({})", error.name, args.join(", "));
                }
            }
        }
    }
    format!("reverted with data 0x{}", hex::encode(data))
}

fn show(v: &DynSolValue) -> String {
    match v {
        DynSolValue::Address(a) => a.to_checksum(None),
        DynSolValue::FixedBytes(b, size) => format!("0x{}", hex::encode(&b[..*size])),
        DynSolValue::Bytes(b) => format!("0x{}", hex::encode(b)),
        DynSolValue::Uint(u, _) => u.to_string(),
        DynSolValue::Int(i, _) => i.to_string(),
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::String(s) => format!("{s:?}"),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{Address, B256};
    use alloy_sol_types::SolError;

    use super::*;

    alloy_sol_types::sol! {
        error AccessControlUnauthorizedAccount(address account, bytes32 neededRole);
    }

    #[test]
    fn standard_and_custom_errors_are_named() {
        let reason = alloy_sol_types::Revert::from("not allowed").abi_encode();
        assert_eq!(decode_revert(&reason, &[]), "Error(\"not allowed\")");
        let panic = alloy_sol_types::Panic::from(0x11u64).abi_encode();
        assert_eq!(decode_revert(&panic, &[]), "Panic(17)");
        let abi: JsonAbi = JsonAbi::parse([
            "error AccessControlUnauthorizedAccount(address account, bytes32 neededRole)",
        ])
        .unwrap();
        let custom = AccessControlUnauthorizedAccount {
            account: Address::repeat_byte(0x11),
            neededRole: B256::repeat_byte(0x22),
        }
        .abi_encode();
        let text = decode_revert(&custom, &[&abi]);
        assert!(text.starts_with("AccessControlUnauthorizedAccount(0x1111"), "{text}");
        assert!(text.ends_with("2222)"), "{text}");
        assert_eq!(decode_revert(&[1, 2, 3, 4, 5], &[&abi]), "reverted with data 0x0102030405");
        assert_eq!(decode_revert(&[], &[]), "reverted without a reason");
    }
}
