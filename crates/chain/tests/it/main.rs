//! firebreak-chain against a real anvil.

mod follow;
mod link;
