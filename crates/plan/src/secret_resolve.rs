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
    /// The keystore could not be decrypted (wrong password or damaged file).
    #[error("cannot decrypt keystore `{path}`: {reason}")]
    Keystore {
        /// Keystore file.
        path: String,
        /// Why (never the password).
        reason: String,
    },
    /// The anvil account index is out of range.
    #[error("anvil account {0} does not exist (0-9)")]
    NoAnvilAccount(u32),
    /// The loaded key is not the address the plan states.
    #[error("the key loaded for `{signer}` is {actual}, but the plan says {expected}")]
    WrongAddress {
        /// Signer id.
        signer: String,
        /// Address of the loaded key.
        actual: Address,
        /// Address in the plan.
        expected: Address,
    },
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
            Self::Keystore { .. } => {
                "check the keystore password reference and the file (`cast wallet decrypt-keystore` opens it)".to_owned()
            }
            Self::NoAnvilAccount(_) => "use an anvil account between 0 and 9".to_owned(),
            Self::WrongAddress { signer, .. } => {
                format!("load the right key or correct `address` in [signers.{signer}]")
            }
        }
    }
}

/// Reads the secret a reference points at. Relative files start at `base_dir`.
///
/// # Errors
/// [`SecretError`] when the variable is unset or the file unreadable.
pub fn resolve(secret: &SecretRef, base_dir: &Path) -> Result<SecretString, SecretError> {
    let value = resolve_unregistered(secret, base_dir)?;
    // from now on the value is redacted wherever it would be shown
    firebreak_primitives::register_secret(value.expose_secret());
    Ok(value)
}

fn resolve_unregistered(secret: &SecretRef, base_dir: &Path) -> Result<SecretString, SecretError> {
    match (&secret.env, &secret.file) {
        (Some(var), _) => match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(SecretString::from(v.trim().to_owned())),
            _ => Err(SecretError::EnvUnset(var.clone())),
        },
        (None, Some(path)) => {
            let full = base_dir.join(path);
            crate::bounded::read_text(&full, crate::SECRET_MAX_BYTES)
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
    if let Some(bare) = value.expose_secret().strip_prefix("0x") {
        firebreak_primitives::register_secret(bare);
    }
    PrivateKeySigner::from_str(value.expose_secret())
        .map_err(|_| SecretError::NotAKey(var.to_owned()))
}

/// The address of the key in environment variable `var`.
pub(crate) fn key_address(var: &str) -> Result<Address, SecretError> {
    key_from_env(var).map(|k| k.address())
}

/// The private keys of anvil's ten default dev accounts (public test keys of
/// the default mnemonic; valid only on local chains and forks in drills).
const ANVIL_DEV_KEYS: [&str; 10] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
];

/// The key of anvil dev account `index`.
///
/// # Errors
/// [`SecretError::NoAnvilAccount`] past 9.
pub fn anvil_dev_key(index: u32) -> Result<PrivateKeySigner, SecretError> {
    let text = ANVIL_DEV_KEYS.get(index as usize).ok_or(SecretError::NoAnvilAccount(index))?;
    PrivateKeySigner::from_str(text).map_err(|_| SecretError::NoAnvilAccount(index))
}

/// Decrypts an encrypted JSON keystore with `password`.
///
/// # Errors
/// [`SecretError::Keystore`] on a wrong password or a damaged file.
pub fn key_from_keystore(
    path: &Path,
    password: &SecretString,
) -> Result<PrivateKeySigner, SecretError> {
    // a directory, a device or a huge file is said to be one, before decrypting
    crate::bounded::check_regular(path, crate::KEYSTORE_MAX_BYTES).map_err(|e| {
        SecretError::Keystore { path: path.display().to_string(), reason: e.to_string() }
    })?;
    PrivateKeySigner::decrypt_keystore(path, password.expose_secret()).map_err(|e| {
        SecretError::Keystore { path: path.display().to_string(), reason: e.to_string() }
    })
}

/// Loads the key of plan signer `id` and checks it against the stated address.
///
/// # Errors
/// [`SecretError`] when the key cannot be loaded or is not the stated one.
pub fn load_signer(
    id: &str,
    signer: &crate::model::Signer,
    base_dir: &Path,
) -> Result<PrivateKeySigner, SecretError> {
    let key = match &signer.source {
        crate::model::KeySource::Env(var) => key_from_env(var)?,
        crate::model::KeySource::Keystore { path, password } => {
            let password = resolve(password, base_dir)?;
            key_from_keystore(&base_dir.join(path), &password)?
        }
        crate::model::KeySource::AnvilDev(i) => anvil_dev_key(*i)?,
    };
    match signer.address {
        Some(expected) if expected != key.address() => Err(SecretError::WrongAddress {
            signer: id.to_owned(),
            actual: key.address(),
            expected,
        }),
        _ => Ok(key),
    }
}

#[cfg(test)]
mod dev_key_tests {
    use super::*;

    #[test]
    fn anvil_dev_keys_match_the_dev_addresses() {
        for (i, expected) in crate::validate::ANVIL_DEV_ADDRESSES.iter().enumerate() {
            let key = anvil_dev_key(i as u32).expect("key");
            assert_eq!(key.address(), expected.parse::<Address>().expect("address"));
        }
        assert!(anvil_dev_key(10).is_err());
    }

    #[test]
    fn keystore_signers_load_with_their_password_and_check_their_address() {
        let dir = tempfile::tempdir().expect("dir");
        let key = anvil_dev_key(5).expect("key");
        let _ = PrivateKeySigner::encrypt_keystore(
            dir.path(),
            &mut rand::thread_rng(),
            key.credential().to_bytes(),
            "correct horse",
            Some("owner.json"),
        )
        .expect("encrypt");
        std::fs::write(dir.path().join("pw"), "correct horse\n").expect("write");
        let signer = crate::model::Signer {
            source: crate::model::KeySource::Keystore {
                path: "owner.json".into(),
                password: SecretRef { env: None, file: Some("pw".into()) },
            },
            address: Some(key.address()),
        };
        assert_eq!(
            load_signer("owner", &signer, dir.path()).expect("load").address(),
            key.address()
        );

        std::fs::write(dir.path().join("pw"), "hunter2-not-it").expect("write");
        let e = load_signer("owner", &signer, dir.path()).expect_err("wrong password");
        assert!(matches!(e, SecretError::Keystore { .. }), "{e}");
        assert!(!e.to_string().contains("hunter2"), "the password leaked: {e}");

        std::fs::write(dir.path().join("pw"), "correct horse").expect("write");
        let other = crate::model::Signer { address: Some(Address::repeat_byte(1)), ..signer };
        let e = load_signer("owner", &other, dir.path()).expect_err("wrong address");
        assert!(e.to_string().contains("but the plan says"), "{e}");
    }
}
