//! References to secrets. A plan never holds a secret value itself.

use std::{fmt, path::PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, de};

/// Where a secret comes from: an environment variable or a file.
///
/// Written in a plan as `{ env = "NAME" }` or `{ file = "path" }`. A plain
/// string in a secret position is rejected so that a token, webhook URL or key
/// can never be committed inside a plan by mistake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    /// Name of an environment variable holding the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// Path of a file holding the secret (relative to the plan file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
}

impl SecretRef {
    /// A reference to an environment variable.
    pub fn env(name: impl Into<String>) -> Self {
        Self { env: Some(name.into()), file: None }
    }

    /// A short description for messages, e.g. `env ACME_KEY`. Never the value.
    pub fn describe(&self) -> String {
        match (&self.env, &self.file) {
            (Some(var), _) => format!("env {var}"),
            (None, Some(path)) => format!("file {}", path.display()),
            (None, None) => "an empty reference".to_owned(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretTable {
    #[serde(default)]
    env: Option<String>,
    #[serde(default)]
    file: Option<PathBuf>,
}

/// `true` when `s` looks like a raw secp256k1 private key (32 bytes of hex).
pub(crate) fn looks_like_private_key(s: &str) -> bool {
    let hex = s.strip_prefix("0x").unwrap_or(s);
    hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = SecretRef;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a secret reference such as { env = \"NAME\" } or { file = \"path\" }")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if looks_like_private_key(v) {
                    Err(E::custom(
                        "literal private key in the plan; reference it instead: { env = \"NAME\" }",
                    ))
                } else {
                    Err(E::custom(
                        "secrets must be references, not literal values: \
                         write { env = \"NAME\" } or { file = \"path\" }",
                    ))
                }
            }

            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let t = SecretTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                match (&t.env, &t.file) {
                    (Some(_), Some(_)) => {
                        Err(de::Error::custom("give either `env` or `file`, not both"))
                    }
                    (None, None) => Err(de::Error::custom(
                        "empty secret reference: give `env = \"NAME\"` or `file = \"path\"`",
                    )),
                    (Some(var), None) if !valid_env_name(var) => Err(de::Error::custom(format!(
                        "`{var}` is not a valid environment variable name \
                         (letters, digits and `_`, not starting with a digit)"
                    ))),
                    _ => Ok(SecretRef { env: t.env, file: t.file }),
                }
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// `true` for POSIX-style environment variable names.
pub(crate) fn valid_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Holder {
        #[allow(dead_code)]
        s: SecretRef,
    }

    fn parse(text: &str) -> Result<SecretRef, String> {
        toml::from_str::<Holder>(text).map(|h| h.s).map_err(|e| e.message().to_owned())
    }

    #[test]
    fn accepts_references_only() {
        assert_eq!(parse("s = { env = \"A_B\" }").unwrap(), SecretRef::env("A_B"));
        assert!(parse("s = { file = \"k.txt\" }").unwrap().file.is_some());
        let cases = [
            ("s = \"hunter2\"", "must be references"),
            (
                "s = \"0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\"",
                "literal private key",
            ),
            ("s = {}", "empty secret reference"),
            ("s = { env = \"A\", file = \"b\" }", "not both"),
            ("s = { env = \"1A\" }", "not a valid environment variable"),
            ("s = { vault = \"x\" }", "unknown field"),
        ];
        for (text, want) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
    }
}
