//! Recovery runs live in the daemon: the exploit's sender is proposed as an
//! attacker when the incident opens, and once a member confirms it, funds
//! it sends into a labelled bridge are traced at the next block, with a P1
//! to the recovery channel.

use std::{collections::BTreeMap, time::Duration};

use alloy::{
    network::TransactionBuilder as _,
    primitives::{Address, Bytes, U256},
    providers::Provider as _,
    rpc::types::TransactionRequest,
};
use firebreak_node::DaemonEvent;
use firebreak_primitives::Event;
use firebreak_recover::book::AttackerState;
use firebreak_respond::Recovery;
use firebreak_store::prelude::*;
use firebreak_test_utils::{
    MockUSDC, Pauser, World, WorldExt as _, fixture_safe_harbor, fixture_team,
};

use crate::contain::{load, pause_block, start, store, world};

const BRIDGE: &str = "0xB0B0000000000000000000000000000000000B0B";

async fn send(w: &World, from: usize, to: Address, data: Vec<u8>) {
    let tx = TransactionRequest::default()
        .from(w.chain.dev_address(from))
        .to(to)
        .with_input(Bytes::from(data));
    let pending = w.chain.provider().send_transaction(tx).await.unwrap();
    w.mine().await.unwrap();
    assert!(pending.get_receipt().await.unwrap().status());
}

async fn recovery_event(
    events: &mut tokio::sync::mpsc::UnboundedReceiver<DaemonEvent>,
    w: &World,
    what: &str,
) -> String {
    // generous: it returns as soon as the event comes (a busy machine is slow)
    for _ in 0..600 {
        match tokio::time::timeout(Duration::from_millis(100), events.recv()).await {
            Ok(Some(DaemonEvent::Recovery { message, .. })) if message.contains(what) => {
                return message;
            }
            Ok(Some(_)) => {}
            Ok(None) => panic!("the daemon stopped"),
            // a block for the daemon to process (its recovery runs per block)
            Err(_) => {
                w.mine().await.unwrap();
            }
        }
    }
    panic!("no recovery event with `{what}`");
}

#[tokio::test]
async fn anvil_the_daemon_proposes_the_attacker_and_traces_its_funds_into_a_bridge_live() {
    let w = world(Pauser::Guardian).await;
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    text.push_str(&fixture_team(&[("alice", &["liaison", "commander"])]));
    text.push_str(
        r#"
[channels.war-room]
kind = "webhook"
url = "http://127.0.0.1:9/hook"
signing_secret = { env = "FIREBREAK_TEST_UNUSED_SECRET" }
"#,
    );
    let recovery = format!(
        "prices = {{ usdc = 1 }}\nlabels = [{{ address = \"{BRIDGE}\", label = \"Portal bridge\", kind = \"bridge\" }}]\nchannels = [\"war-room\"]"
    );
    text.push_str(&fixture_safe_harbor("retainable = false", Some(&recovery)));
    let plan = load(&text);
    let (_dir, store) = store().await;
    let from = w.chain.block_number().await.unwrap() + 1;
    let mut d = start(plan.clone(), store.clone(), from);
    w.exploit().await.unwrap();
    let (id, _) = pause_block(&w, &store).await;
    let attacker = w.chain.dev_address(0);

    let said = recovery_event(&mut d.events, &w, "attacker address(es) proposed").await;
    assert!(said.contains(&format!("firebreak whitehat show {id}")), "{said}");
    let links = BTreeMap::from([("local".to_owned(), w.link().await.unwrap())]);
    let r = Recovery::new(plan.clone(), store.clone(), links);
    let view = r.view(id).await.unwrap();
    let a = view.attackers.iter().find(|a| a.address == attacker).expect("the exploit's sender");
    assert_eq!(a.state, AttackerState::Proposed);
    r.decide(id, attacker, "alice", true, None).await.unwrap();

    // the attacker (it owns the token) mints itself 50,000 USDC and sends them to the bridge
    let usdc = MockUSDC::new(w.vault.asset, w.chain.provider());
    let amount = U256::from(50_000_000_000u64);
    send(&w, 0, w.vault.asset, usdc.mint(attacker, amount).calldata().to_vec()).await;
    let data = firebreak_test_utils::IERC20::new(w.vault.asset, w.chain.provider())
        .transfer(BRIDGE.parse().unwrap(), amount)
        .calldata()
        .to_vec();
    send(&w, 0, w.vault.asset, data).await;
    let said = recovery_event(&mut d.events, &w, "reached a bridge").await;
    assert!(said.starts_with("1 traced transfer(s) reached a bridge"), "{said}");

    let t = store.timeline(id).await.unwrap();
    let moved: Vec<_> = t
        .iter()
        .filter_map(|e| match &e.event {
            Event::FundsMoved(m) if m.hop == 1 => Some(m.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(moved.len(), 1, "traced once however many blocks were scanned: {moved:?}");
    assert_eq!(moved[0].kind.as_deref(), Some("bridge"));
    assert_eq!(moved[0].transfer.value_micro_usd.as_deref(), Some("50000000000"));
    let outbox = store.outbox(Some(id)).await.unwrap();
    assert!(
        outbox.iter().any(|m| m.body["severity"] == "P1" && m.channel == "war-room"),
        "{outbox:?}"
    );
    d.stop().await;
}
