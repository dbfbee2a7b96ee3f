//! The Safe Harbor terms in force go on an incident's timeline when it
//! opens, in the opening's own transaction: what white hats were offered is
//! part of the record, whatever the plan says later.

use std::sync::Arc;

use firebreak_respond::IncidentManager;
use firebreak_store::prelude::*;
use firebreak_store::{SqliteStore, verify_chain};
use firebreak_test_utils::{Pauser, World, WorldExt as _};

#[tokio::test]
async fn anvil_an_incident_opens_with_the_safe_harbor_terms_in_force() {
    let w = World::new(Pauser::Guardian).await.unwrap();
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    text.push_str(
        r#"
[safe_harbor]
agreement_uri = "ipfs://bafy-terms"
bounty_percent = 12.5
bounty_cap_usd = 2_000_000
retainable = true
identity = "named"
recovery = { local = "0x4000000000000000000000000000000000000004" }
contacts = [{ name = "Security", contact = "security@test.example" }]
"#,
    );
    let plan = Arc::new(w.load_plan(&text).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let manager = IncidentManager::new(plan, store.clone());
    let id = manager.on_alert(&w.alert("P1", "a")).await.unwrap().incident;
    // a second alert of the same attack joins: the terms are not repeated
    assert_eq!(manager.on_alert(&w.alert("P1", "b")).await.unwrap().incident, id);

    let t = store.timeline(id).await.unwrap();
    let kinds: Vec<&str> = t.iter().map(|e| e.kind()).collect();
    assert_eq!(kinds[..2], ["incident_opened", "safe_harbor_terms"], "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "safe_harbor_terms").count(), 1);
    let terms = &t[1].body;
    assert_eq!(terms["bounty_percent"], "12.50");
    assert_eq!(terms["bounty_cap_usd"], 2_000_000);
    assert_eq!(terms["retainable"], true);
    assert_eq!(terms["identity"], "named");
    assert_eq!(terms["chains"][0]["caip2"], "eip155:31337");
    assert_eq!(terms["chains"][0]["recovery"], "0x4000000000000000000000000000000000000004");
    let accounts = terms["chains"][0]["accounts"].as_array().unwrap();
    assert!(accounts.iter().any(|a| a == &w.vault.vault.to_string()), "{accounts:?}");
    let said = firebreak_store::timeline::describe(&t[1]);
    assert!(said.starts_with("Safe Harbor terms in force: 12.50 % bounty"), "{said}");
    verify_chain(&t).unwrap();
}
