use alloy_primitives::{Address, B256, Bytes, Signature};

/// Why a signature cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// Not 65 bytes of r, s, v.
    #[error("a signature is 65 bytes (r, s, v); got {0}")]
    Length(usize),
    /// The bytes do not form a valid ECDSA signature.
    #[error("not a valid ECDSA signature")]
    Invalid,
    /// The signer is not an owner of the Safe.
    #[error("the signature is from {signer}, who is not an owner of the Safe")]
    NotOwner {
        /// Recovered signer.
        signer: Address,
    },
    /// Two signatures from the same owner.
    #[error("two signatures from owner {0}")]
    Duplicate(Address),
}

/// A signature over a SafeTx hash, with the owner it recovers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerSignature {
    /// The owner.
    pub owner: Address,
    /// r ‖ s ‖ v with v = 27 or 28.
    pub bytes: [u8; 65],
}

/// Recovers the signer of `signature` (r ‖ s ‖ v, v = 27/28 or 0/1) over the
/// SafeTx `hash`, and checks that it is one of `owners`.
///
/// # Errors
/// Malformed signatures and signers that are not owners.
pub fn recover_owner(
    hash: B256,
    signature: &[u8],
    owners: &[Address],
) -> Result<OwnerSignature, SignatureError> {
    let raw: [u8; 65] =
        signature.try_into().map_err(|_| SignatureError::Length(signature.len()))?;
    let sig = Signature::from_raw_array(&raw).map_err(|_| SignatureError::Invalid)?;
    let signer = sig.recover_address_from_prehash(&hash).map_err(|_| SignatureError::Invalid)?;
    if !owners.contains(&signer) {
        return Err(SignatureError::NotOwner { signer });
    }
    Ok(OwnerSignature { owner: signer, bytes: sig.as_bytes() })
}

/// Concatenates signatures in ascending owner order, as `execTransaction`
/// requires (`checkNSignatures` rejects any other order).
///
/// # Errors
/// Two signatures of the same owner.
pub fn pack_signatures(mut signatures: Vec<OwnerSignature>) -> Result<Bytes, SignatureError> {
    signatures.sort_by_key(|s| s.owner);
    if let Some(w) = signatures.windows(2).find(|w| w[0].owner == w[1].owner) {
        return Err(SignatureError::Duplicate(w[0].owner));
    }
    Ok(signatures.iter().flat_map(|s| s.bytes).collect::<Vec<u8>>().into())
}
