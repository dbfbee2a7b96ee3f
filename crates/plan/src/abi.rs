//! Contract ABIs from JSON files, Foundry artifacts or human-readable
//! signatures, and resolution of a method plus arguments against them.

use std::path::Path;

use alloy_dyn_abi::{DynSolType, DynSolValue, JsonAbiExt, Specifier};
use alloy_json_abi::{Error as AbiError, Event, Function, JsonAbi, StateMutability};
use alloy_primitives::Bytes;

use crate::suggest::{closest, list};

/// Why an ABI could not be loaded; the validator positions it.
#[derive(Debug)]
pub(crate) enum AbiLoadError {
    /// The file could not be read.
    Read(String),
    /// The file is not an ABI / artifact.
    Parse(String),
    /// Signature `index` does not parse.
    Signature { index: usize, message: String },
}

pub(crate) fn from_file(path: &Path, shown: &Path) -> Result<JsonAbi, AbiLoadError> {
    let text = read(path, shown)?;
    serde_json::from_str(&text).map_err(|e| {
        AbiLoadError::Parse(format!("`{}` is not a JSON ABI array: {e}", shown.display()))
    })
}

pub(crate) fn from_artifact(path: &Path, shown: &Path) -> Result<JsonAbi, AbiLoadError> {
    #[derive(serde::Deserialize)]
    struct Artifact {
        abi: JsonAbi,
    }
    let text = read(path, shown)?;
    serde_json::from_str::<Artifact>(&text).map(|a| a.abi).map_err(|e| {
        AbiLoadError::Parse(format!(
            "`{}` is not a Foundry artifact with an `abi` field: {e}",
            shown.display()
        ))
    })
}

pub(crate) fn from_signatures(signatures: &[String]) -> Result<JsonAbi, AbiLoadError> {
    let mut abi = JsonAbi::new();
    for (index, sig) in signatures.iter().enumerate() {
        let sig = sig.trim();
        let bad = |message: String| AbiLoadError::Signature { index, message };
        if sig.starts_with("event ") {
            let ev = Event::parse(sig).map_err(|e| bad(e.to_string()))?;
            abi.events.entry(ev.name.clone()).or_default().push(ev);
        } else if sig.starts_with("error ") {
            let er = AbiError::parse(sig).map_err(|e| bad(e.to_string()))?;
            abi.errors.entry(er.name.clone()).or_default().push(er);
        } else if sig.starts_with("function ") {
            let f = Function::parse(sig).map_err(|e| bad(e.to_string()))?;
            abi.functions.entry(f.name.clone()).or_default().push(f);
        } else {
            return Err(bad("a signature starts with `function`, `event` or `error`".to_owned()));
        }
    }
    Ok(abi)
}

fn read(path: &Path, shown: &Path) -> Result<String, AbiLoadError> {
    crate::bounded::read_text(path, crate::ABI_MAX_BYTES).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_owned(),
            _ => e.to_string(),
        };
        AbiLoadError::Read(format!("cannot read ABI `{}`: {why}", shown.display()))
    })
}

/// Why a method could not be resolved against an ABI.
#[derive(Debug)]
pub(crate) enum ResolveError {
    /// No function by that name or signature.
    NoSuchFunction { message: String, hint: String },
    /// Wrong number of arguments.
    Arity { message: String, hint: String },
    /// Argument `index` does not fit its parameter type.
    Argument { index: usize, message: String, hint: String },
    /// The function cannot change state.
    ReadOnly { message: String, hint: String },
}

/// Resolves `method` (a name, or a full signature such as `pause(uint256)`)
/// and its JSON arguments to a function, typed values and calldata.
pub(crate) fn resolve(
    abi: &JsonAbi,
    method: &str,
    args: &[serde_json::Value],
) -> Result<(Function, Vec<DynSolValue>, Bytes), ResolveError> {
    let by_signature = method.contains('(');
    let candidates: Vec<&Function> = if by_signature {
        abi.functions().filter(|f| f.signature() == method.replace(' ', "")).collect()
    } else {
        abi.function(method).map(|fs| fs.iter().collect()).unwrap_or_default()
    };
    if candidates.is_empty() {
        let names: Vec<String> = {
            let mut v: Vec<String> = abi.functions.keys().cloned().collect();
            v.dedup();
            v
        };
        let wanted = method.split('(').next().unwrap_or(method);
        let hint = match closest(wanted, names.iter().map(String::as_str)) {
            Some(best) => format!("did you mean `{best}`? the ABI has {}", list(&names)),
            None => format!("the ABI has {}", list(&names)),
        };
        return Err(ResolveError::NoSuchFunction {
            message: format!("no function `{method}` in the contract's ABI"),
            hint,
        });
    }
    let same_arity: Vec<&Function> =
        candidates.iter().copied().filter(|f| f.inputs.len() == args.len()).collect();
    if same_arity.is_empty() {
        let sigs: Vec<String> = candidates.iter().map(|f| f.signature()).collect();
        return Err(ResolveError::Arity {
            message: format!(
                "`{method}` is given {} argument{} but takes {}",
                args.len(),
                if args.len() == 1 { "" } else { "s" },
                candidates
                    .iter()
                    .map(|f| f.inputs.len().to_string())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            hint: format!("match the signature {}", list(&sigs)),
        });
    }
    let mut first_error = None;
    for f in &same_arity {
        match coerce_all(f, args) {
            Ok(values) => {
                if matches!(f.state_mutability, StateMutability::View | StateMutability::Pure) {
                    return Err(ResolveError::ReadOnly {
                        message: format!(
                            "`{}` is a {} function and cannot change state",
                            f.signature(),
                            mutability(f.state_mutability)
                        ),
                        hint: "name the function that changes state (e.g. `pause`)".to_owned(),
                    });
                }
                let calldata = f.abi_encode_input(&values).map_err(|e| ResolveError::Argument {
                    index: 0,
                    message: format!("cannot encode arguments for `{}`: {e}", f.signature()),
                    hint: "check the argument types".to_owned(),
                })?;
                return Ok(((*f).clone(), values, calldata.into()));
            }
            Err(e) => {
                if first_error.is_none() {
                    first_error = Some(e);
                }
            }
        }
    }
    Err(first_error.unwrap_or_else(|| ResolveError::Arity {
        message: format!("`{method}` cannot be called with these arguments"),
        hint: "write the full signature to pick an overload".to_owned(),
    }))
}

fn mutability(m: StateMutability) -> &'static str {
    match m {
        StateMutability::Pure => "pure",
        StateMutability::View => "view",
        StateMutability::NonPayable => "nonpayable",
        StateMutability::Payable => "payable",
    }
}

fn coerce_all(f: &Function, args: &[serde_json::Value]) -> Result<Vec<DynSolValue>, ResolveError> {
    f.inputs
        .iter()
        .zip(args)
        .enumerate()
        .map(|(index, (param, arg))| {
            let ty = param.resolve().map_err(|e| ResolveError::Argument {
                index,
                message: format!(
                    "parameter {index} of `{}` has an unsupported type: {e}",
                    f.signature()
                ),
                hint: "use a simpler ABI for this method".to_owned(),
            })?;
            coerce(&ty, arg).map_err(|message| ResolveError::Argument {
                index,
                message: format!(
                    "argument {index} of `{}` does not fit `{}`: {message}",
                    f.signature(),
                    param.ty
                ),
                hint: format!("give a `{}` value", param.ty),
            })
        })
        .collect()
}

/// Converts a plan value (string, integer, boolean, array) to a typed ABI value.
pub(crate) fn coerce(ty: &DynSolType, value: &serde_json::Value) -> Result<DynSolValue, String> {
    use serde_json::Value;
    match (ty, value) {
        (DynSolType::Array(inner), Value::Array(items)) => {
            items.iter().map(|v| coerce(inner, v)).collect::<Result<_, _>>().map(DynSolValue::Array)
        }
        (DynSolType::FixedArray(inner, len), Value::Array(items)) => {
            if items.len() != *len {
                return Err(format!("expected {len} items, found {}", items.len()));
            }
            items
                .iter()
                .map(|v| coerce(inner, v))
                .collect::<Result<_, _>>()
                .map(DynSolValue::FixedArray)
        }
        (DynSolType::Tuple(types), Value::Array(items)) => {
            if items.len() != types.len() {
                return Err(format!("expected a tuple of {}, found {}", types.len(), items.len()));
            }
            types
                .iter()
                .zip(items)
                .map(|(t, v)| coerce(t, v))
                .collect::<Result<_, _>>()
                .map(DynSolValue::Tuple)
        }
        (_, Value::String(s)) => ty.coerce_str(s).map_err(|e| first_line(&e.to_string())),
        (_, Value::Number(n)) => {
            ty.coerce_str(&n.to_string()).map_err(|e| first_line(&e.to_string()))
        }
        (DynSolType::Bool, Value::Bool(b)) => Ok(DynSolValue::Bool(*b)),
        (_, other) => Err(format!("a {} cannot be used here", json_kind(other))),
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_owned()
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "table",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn abi() -> JsonAbi {
        from_signatures(&[
            "function pause()".into(),
            "function pause(uint256 market)".into(),
            "function setCap(address token, uint256 cap)".into(),
            "function paused() view returns (bool)".into(),
            "event Paused(address account)".into(),
        ])
        .unwrap()
    }

    #[test]
    fn resolves_overloads_by_arity_and_signature() {
        let abi = abi();
        let (f, _, data) = resolve(&abi, "pause", &[]).unwrap();
        assert_eq!(f.signature(), "pause()");
        assert_eq!(data.len(), 4);
        let (f, _, data) = resolve(&abi, "pause", &[json!(7)]).unwrap();
        assert_eq!(f.signature(), "pause(uint256)");
        assert_eq!(data.len(), 36);
        assert!(resolve(&abi, "pause(uint256)", &[json!("7")]).is_ok());
        let (_, values, _) = resolve(
            &abi,
            "setCap",
            &[json!("0x00000000000000000000000000000000000000aa"), json!("1000000")],
        )
        .unwrap();
        assert_eq!(values.len(), 2);
    }

    #[test]
    fn rejects_bad_calls() {
        let abi = abi();
        assert!(
            matches!(resolve(&abi, "pauze", &[]), Err(ResolveError::NoSuchFunction { hint, .. }) if hint.contains("did you mean `pause`"))
        );
        assert!(matches!(resolve(&abi, "setCap", &[json!(1)]), Err(ResolveError::Arity { .. })));
        assert!(matches!(
            resolve(&abi, "setCap", &[json!("not-an-address"), json!(1)]),
            Err(ResolveError::Argument { index: 0, .. })
        ));
        assert!(matches!(resolve(&abi, "paused", &[]), Err(ResolveError::ReadOnly { .. })));
        assert!(from_signatures(&["pause()".into()]).is_err());
        assert!(from_signatures(&["function pause(".into()]).is_err());
    }
}
