//! Resolving secret references to values at run time (and in `check --secrets`).

use std::{path::Path, str::FromStr};

use alloy_primitives::Address;
use alloy_signer_local::PrivateKeySigner;
use secrecy::{ExposeSecret, SecretString};

use crate::secret::SecretRef;

/// Why a secret could not be resolved. Never carries the secret itself.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The environment variable is unset or empty.
    #[error("environment variable `{0}` is not set")]
    EnvUnset(String),
    /// The file could not be read.
    #[error("cannot read secret file `{path}`: {source}")]
    File {
        /// Path as resolved.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The reference has neither `env` nor `file`.
    #[error("empty secret reference")]
    Empty,
    /// The value is not a 32-byte hex private key.
    #[error("the value of `{0}` is not a 32-byte hex private key")]
    NotAKey(String),
}

impl SecretError {
    /// One line on how to fix it.
    pub fn hint(&self) -> String {
        match self {
            Self::EnvUnset(var) => format!("export {var}=… in the daemon's environment"),
            Self::File { .. } => {
                "create the file (paths are relative to the plan) or fix the path".to_owned()
            }
            Self::Empty => "write { env = \"NAME\" } or { file = \"path\" }".to_owned(),
            Self::NotAKey(var) => format!("put the hex private key (0x + 64 hex digits) in {var}"),
        }
    }
}

/// Reads the secret a reference points at. Relative files start at `base_dir`.
///
/// # Errors
/// [`SecretError`] when the variable is unset or the file unreadable.
pub fn resolve(secret: &SecretRef, base_dir: &Path) -> Result<SecretString, SecretError> {
    match (&secret.env, &secret.file) {
        (Some(var), _) => match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(SecretString::from(v.trim().to_owned())),
            _ => Err(SecretError::EnvUnset(var.clone())),
        },
        (None, Some(path)) => {
            let full = base_dir.join(path);
            std::fs::read_to_string(&full)
                .map(|v| SecretString::from(v.trim().to_owned()))
                .map_err(|source| SecretError::File { path: full.display().to_string(), source })
        }
        (None, None) => Err(SecretError::Empty),
    }
}

/// Loads the private key held in environment variable `var`.
///
/// # Errors
/// [`SecretError`] when unset or not a key.
pub fn key_from_env(var: &str) -> Result<PrivateKeySigner, SecretError> {
    let value = resolve(&SecretRef::env(var), Path::new("."))?;
    PrivateKeySigner::from_str(value.expose_secret())
        .map_err(|_| SecretError::NotAKey(var.to_owned()))
}

/// The address of the key in environment variable `var`.
pub(crate) fn key_address(var: &str) -> Result<Address, SecretError> {
    key_from_env(var).map(|k| k.address())
}
