//! "Ready" is re-proved on the chain while the daemon runs: a P1 pause path
//! whose guardian has no gas money, or whose pause now reverts (its role
//! revoked), blocks readiness, opens the P1 readiness incident, pages the
//! on-call and tells the plan's readiness channels; fixed on chain,
//! readiness clears by itself. The checks run at every processed block.

use std::time::Duration;

use alloy::{primitives::U256, providers::Provider as _, sol, sol_types::SolCall as _};
use firebreak_node::{DaemonEvent, DaemonOptions};
use firebreak_primitives::Severity;
use firebreak_store::IncidentFilter;
use firebreak_test_utils::{Pauser, World, sink};

use crate::{
    contain::{alice_on_webhook, load, start_with, store},
    isolation::{next_event, readyz, serving},
};
use firebreak_store::prelude::*;

sol! {
    function revokeRole(bytes32 role, address account);
    function PAUSER_ROLE() returns (bytes32);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anvil_a_guardian_without_gas_or_role_is_not_ready_and_pages() {
    let w = World::new(Pauser::Guardian).await.unwrap();
    let hook = sink::start().await;
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    let (_secrets, alice) = alice_on_webhook(&hook.url);
    // the webhook is also a readiness channel
    text.push_str(&alice.replace("kind = \"webhook\"", "kind = \"webhook\"\nreadiness = true"));
    let plan = load(&text);
    let (_dir, store) = store().await;
    let mut d = start_with(plan, store.clone(), 0, |o| DaemonOptions {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        ..o
    });
    let url = serving(&mut d).await;
    let readyz = || readyz(&url);
    let guardian = w.chain.dev_address(1);
    let p = w.chain.provider();

    // the guardian's gas money is gone
    let _: serde_json::Value =
        p.raw_request("anvil_setBalance".into(), (guardian, U256::ZERO)).await.unwrap();
    let message = next_event(&mut d, |e| match e {
        DaemonEvent::Readiness { message } if message.contains("gas money") => {
            Some(message.clone())
        }
        _ => None,
    })
    .await;
    assert!(message.contains("NOT READY") && message.contains("cannot land"), "{message}");
    let (status, body) = readyz().await;
    assert_eq!(status, 503, "{body}");
    // the P1 readiness incident pages the on-call
    let mut paged = false;
    for _ in 0..600 {
        if hook.seen().iter().any(|r| {
            let m = r.json();
            m["event"] == "page" && m["title"].as_str().is_some_and(|t| t.contains("NOT READY"))
        }) {
            paged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        paged,
        "nobody was paged: {:?}",
        hook.seen().iter().map(|r| r.json()).collect::<Vec<_>>()
    );
    // and the readiness channel was told, apart from the page
    let mut told = false;
    for _ in 0..600 {
        told = hook.seen().iter().any(|r| {
            let m = r.json();
            m["event"] == "incident_opened"
                && m["recipient"].is_null()
                && m["title"].as_str().is_some_and(|t| t.contains("NOT READY"))
        });
        if told {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(told, "the readiness channel heard nothing");
    let incidents = store.incidents(&IncidentFilter::default()).await.unwrap();
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0].severity, Severity::P1);
    assert_eq!(incidents[0].playbook, firebreak_respond::READINESS_MONITOR);

    // gas money back: readiness clears by itself
    let eth = U256::from(10u64).pow(U256::from(18u64));
    let _: serde_json::Value =
        p.raw_request("anvil_setBalance".into(), (guardian, eth)).await.unwrap();
    let mut ready = (0, String::new());
    for _ in 0..600 {
        ready = readyz().await;
        if ready.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(ready.0, 200, "{}", ready.1);

    // the pauser role revoked: the pause would revert, and that is not ready
    let vault = w.vault.vault;
    let call = |data: Vec<u8>| {
        alloy::rpc::types::TransactionRequest::default()
            .from(w.chain.dev_address(0))
            .to(vault)
            .input(data.into())
    };
    let role = p.call(call(PAUSER_ROLECall {}.abi_encode())).await.unwrap();
    let role = alloy::primitives::B256::from_slice(&role[..32]);
    let revoke = revokeRoleCall { role, account: guardian }.abi_encode();
    p.send_transaction(call(revoke)).await.unwrap().get_receipt().await.unwrap();
    let message = next_event(&mut d, |e| match e {
        DaemonEvent::Readiness { message } if message.contains("reverts in simulation") => {
            Some(message.clone())
        }
        _ => None,
    })
    .await;
    assert!(message.contains("AccessControlUnauthorizedAccount"), "decoded: {message}");
    assert_eq!(readyz().await.0, 503);
    d.stop().await;
}
