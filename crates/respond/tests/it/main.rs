//! The executor against a real anvil, driven by alerts built in the test.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod approval;
mod compromise;
mod link;
mod paging;
mod readiness;
mod recovery;
mod replace;
mod signing;
mod verify;
mod war_room;

use std::{collections::HashMap, sync::Arc};

use firebreak_respond::Executor;
use firebreak_store::SqliteStore;
use firebreak_test_utils::{World, WorldExt as _};

/// An executor for `plan` on the world's chain (plan chain `local`).
pub(crate) async fn executor(
    w: &World,
    plan: &Arc<firebreak_plan::Plan>,
    store: &Arc<SqliteStore>,
) -> Executor {
    let link = w.link().await.unwrap();
    Executor::with_links(plan.clone(), store.clone(), HashMap::from([("local".to_owned(), link)]))
}
