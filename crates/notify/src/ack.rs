//! Signed, expiring acknowledgement links: `…/ack/INCIDENT.MEMBER.EXPIRY.MAC`
//! with MAC = hex HMAC-SHA256(key, "INCIDENT.MEMBER.EXPIRY"). Whoever holds the
//! link (it went to that member's contact) can acknowledge as that member,
//! until it expires.

use hmac::{Hmac, Mac as _};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::Sha256;

fn mac(key: &SecretString, payload: &str) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(key.expose_secret().as_bytes())
        .expect("HMAC takes keys of any length");
    m.update(payload.as_bytes());
    m
}

/// A token for `member` to acknowledge `incident`, valid until `expires` (unix s).
pub fn ack_token(key: &SecretString, incident: u64, member: &str, expires: u64) -> String {
    let payload = format!("{incident}.{member}.{expires}");
    let tag = alloy_primitives::hex::encode(mac(key, &payload).finalize().into_bytes());
    format!("{payload}.{tag}")
}

/// Why a token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    /// Not of the form INCIDENT.MEMBER.EXPIRY.MAC.
    #[error("this is not an acknowledgement link")]
    Malformed,
    /// The MAC does not match: forged or altered.
    #[error("this acknowledgement link is not valid")]
    BadSignature,
    /// Past its expiry.
    #[error("this acknowledgement link has expired; acknowledge with `firebreak incident ack`")]
    Expired,
}

/// Checks a token at `now` (unix s); returns (incident, member).
///
/// # Errors
/// [`AckError`].
pub fn verify_ack_token(
    key: &SecretString,
    token: &str,
    now: u64,
) -> Result<(u64, String), AckError> {
    let (payload, tag) = token.rsplit_once('.').ok_or(AckError::Malformed)?;
    let mut parts = payload.splitn(3, '.');
    let incident: u64 = parts.next().and_then(|p| p.parse().ok()).ok_or(AckError::Malformed)?;
    let member = parts.next().filter(|m| !m.is_empty()).ok_or(AckError::Malformed)?.to_owned();
    let expires: u64 = parts.next().and_then(|p| p.parse().ok()).ok_or(AckError::Malformed)?;
    let tag = alloy_primitives::hex::decode(tag).map_err(|_| AckError::Malformed)?;
    mac(key, payload).verify_slice(&tag).map_err(|_| AckError::BadSignature)?;
    if now > expires {
        return Err(AckError::Expired);
    }
    Ok((incident, member))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_until_they_expire_and_not_once_altered() {
        let key = SecretString::from("k3y");
        let t = ack_token(&key, 7, "alice", 1_000);
        assert_eq!(verify_ack_token(&key, &t, 999), Ok((7, "alice".into())));
        assert_eq!(verify_ack_token(&key, &t, 1_001), Err(AckError::Expired));
        assert_eq!(
            verify_ack_token(&key, &t.replace("alice", "mallory"), 999),
            Err(AckError::BadSignature)
        );
        assert_eq!(
            verify_ack_token(&SecretString::from("other"), &t, 999),
            Err(AckError::BadSignature)
        );
        assert_eq!(verify_ack_token(&key, "garbage", 0), Err(AckError::Malformed));
        assert_eq!(verify_ack_token(&key, "7.alice.1000.zz", 0), Err(AckError::Malformed));
    }
}
