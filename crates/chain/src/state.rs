use alloy::{
    eips::BlockId, network::TransactionBuilder, primitives::Bytes, providers::Provider,
    rpc::types::TransactionRequest,
};
use firebreak_primitives::StateRead;

use crate::error::{Error, Result};

/// Performs state reads at block `number`. Each read yields the raw return
/// data (ETH balances ABI-encoded as `uint256`), or `None` when the call
/// reverted. The reads go out concurrently.
///
/// # Errors
/// Transport failures (a revert is not an error: it is `None`).
pub async fn read_state<P: Provider>(
    provider: &P,
    chain_id: u64,
    reads: &[StateRead],
    number: u64,
) -> Result<Vec<Option<Bytes>>> {
    let block = BlockId::number(number);
    let futures = reads.iter().map(|read| async move {
        match read {
            StateRead::EthBalance(addr) => provider
                .get_balance(*addr)
                .block_id(block)
                .await
                .map(|v| Some(Bytes::from(v.to_be_bytes::<32>().to_vec())))
                .map_err(|source| Error::Rpc { chain_id, method: "eth_getBalance", source }),
            StateRead::Call { to, data } => {
                let tx = TransactionRequest::default().with_to(*to).with_input(data.clone());
                match provider.call(tx).block(block).await {
                    Ok(ret) => Ok(Some(ret)),
                    // a revert is an answer about the state, not a transport failure
                    Err(e) if e.as_error_resp().is_some() => Ok(None),
                    Err(source) => Err(Error::Rpc { chain_id, method: "eth_call", source }),
                }
            }
        }
    });
    let results = futures::future::join_all(futures).await;
    results.into_iter().collect()
}
