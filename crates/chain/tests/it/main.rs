//! firebreak-chain against a real anvil.

mod link;
