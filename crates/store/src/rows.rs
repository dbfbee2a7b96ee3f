//! Row values to records, the same for every backend: a corrupt row is an
//! error naming what it held, never a panic.

use crate::{
    ReplicaBeat,
    alerts::{Checkpoint, Error, Result, StoredAlert},
};

/// A checkpoint from its columns.
pub(crate) fn checkpoint(chain_id: u64, number: i64, hash: &str) -> Result<Checkpoint> {
    Ok(Checkpoint {
        chain_id,
        number: u64::try_from(number).map_err(|_| Error::Corrupt {
            what: "checkpoint",
            detail: format!("negative block {number}"),
        })?,
        hash: hash.parse().map_err(|_| Error::Corrupt {
            what: "checkpoint",
            detail: format!("bad hash {hash}"),
        })?,
    })
}

/// A stored alert from its JSON body and retraction mark.
pub(crate) fn stored_alert(body: &str, retracted: bool) -> Result<StoredAlert> {
    let alert = serde_json::from_str(body)
        .map_err(|e| Error::Corrupt { what: "alert", detail: e.to_string() })?;
    Ok(StoredAlert { alert, retracted })
}

/// A replica's beat as stored (JSON).
pub(crate) fn beat_body(beat: &ReplicaBeat) -> Result<String> {
    serde_json::to_string(beat)
        .map_err(|e| Error::Corrupt { what: "replica", detail: e.to_string() })
}

/// A replica's beat from its stored JSON.
pub(crate) fn beat(body: &str) -> Result<ReplicaBeat> {
    serde_json::from_str(body)
        .map_err(|e| Error::Corrupt { what: "replica", detail: e.to_string() })
}
