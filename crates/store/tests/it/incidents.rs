use std::{collections::BTreeMap, sync::Arc};

use alloy_primitives::{Address, B256, Bytes};
use firebreak_primitives::{Actor, Alert, IncidentId, IncidentStatus, Severity, StepStatus};
use firebreak_store::{
    ActionKind, ActionRecord, ActionStatus, Grouping, IncidentFilter, IncidentStore, PgStore,
    Presigned, SafeSignature, SqliteStore, TxAttempt, verify_chain,
};

/// Runs each conformance test once per backend.
macro_rules! conformance {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let store = super::SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
                    super::$name(std::sync::Arc::new(store)).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let cluster = firebreak_test_utils::pg::PgCluster::start();
                    let store = super::PgStore::connect(&cluster.url).await.unwrap();
                    super::$name(std::sync::Arc::new(store)).await;
                }
            )+
        }
    };
}

conformance!(
    alerts_group_into_incidents_by_playbook_and_window,
    a_storm_of_alerts_is_one_incident_with_a_short_timeline,
    the_lifecycle_only_moves_forward_and_is_recorded,
    every_write_extends_a_verifying_hash_chain,
    steps_count_attempts_and_record_changes,
    actions_round_trip_with_attempts,
    one_decision_per_member_and_one_signature_per_owner,
    presigned_batches_and_unlinked_alerts,
    the_outbox_keeps_order_per_incident_and_channel_and_each_key_once,
    thirty_acknowledgements_at_once_record_one,
    a_lease_fences_every_action_write_of_its_holder,
);

/// Runs each test once per backend with three handles on one database, each
/// with connections of its own, as three replicas would have.
macro_rules! replicated {
    ($($name:ident),+ $(,)?) => {
        mod sqlite_replicas {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let path = dir.path().join("t.db");
                    let mut handles: Vec<super::Store> = Vec::new();
                    for _ in 0..3 {
                        handles.push(std::sync::Arc::new(super::SqliteStore::open(&path).await.unwrap()));
                    }
                    super::$name(handles).await;
                }
            )+
        }
        mod postgres_replicas {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let cluster = firebreak_test_utils::pg::PgCluster::start();
                    let mut handles: Vec<super::Store> = Vec::new();
                    for _ in 0..3 {
                        handles.push(std::sync::Arc::new(super::PgStore::connect(&cluster.url).await.unwrap()));
                    }
                    super::$name(handles).await;
                }
            )+
        }
    };
}

replicated!(
    three_replicas_writing_one_timeline_keep_it_gap_free_and_chained,
    couriers_of_three_replicas_never_claim_one_message,
    one_attack_seen_by_three_replicas_opens_one_incident,
);

/// Everything a backend offers.
trait Backend: IncidentStore + firebreak_store::AlertStore + firebreak_store::LeaseStore {}
impl<T: IncidentStore + firebreak_store::AlertStore + firebreak_store::LeaseStore> Backend for T {}

type Store = Arc<dyn Backend>;

fn alert(monitor: &str, severity: &str, playbook: &str, block: u64, key: &str) -> Alert {
    Alert {
        monitor: monitor.into(),
        severity: severity.parse().unwrap(),
        playbook: Some(playbook.into()),
        chain_id: 31337,
        block_number: block,
        block_hash: B256::with_last_byte(block as u8),
        tx_hash: Some(B256::repeat_byte(0xaa)),
        log_index: Some(0),
        evidence: BTreeMap::from([("amount".to_owned(), "500000000000".to_owned())]),
        probes: BTreeMap::new(),
        dedup_key: key.into(),
        confirmations: 0,
    }
}

fn grouping(now_ms: u64) -> Grouping {
    Grouping {
        protocol: "Acme".into(),
        plan_hash: B256::repeat_byte(7),
        window_ms: 3_600_000,
        title: "Acme: large withdrawal".into(),
        drill: true,
        now_ms,
        on_open: Vec::new(),
    }
}

async fn alerts_group_into_incidents_by_playbook_and_window(s: Store) {
    let t0 = 1_800_000_000_000;
    let a =
        s.record_alert(&alert("drain", "P2", "contain", 10, "k1"), &grouping(t0)).await.unwrap();
    assert!(a.opened && a.new);
    // same playbook within the window: same incident, severity raised
    let b = s
        .record_alert(&alert("admin", "P1", "contain", 11, "k2"), &grouping(t0 + 1000))
        .await
        .unwrap();
    assert_eq!((b.incident, b.opened, b.upgraded), (a.incident, false, Some(Severity::P1)));
    // the same alert again (a replay after restart) is not linked twice
    let again = s
        .record_alert(&alert("admin", "P1", "contain", 11, "k2"), &grouping(t0 + 2000))
        .await
        .unwrap();
    assert!(!again.new && again.incident == a.incident);
    // another playbook: another incident
    let c = s
        .record_alert(&alert("oracle", "P3", "notify", 12, "k3"), &grouping(t0 + 3000))
        .await
        .unwrap();
    assert!(c.opened && c.incident != a.incident);
    // past the window: a new incident
    let later = grouping(t0 + 1000 + 3_600_001);
    let d = s.record_alert(&alert("drain", "P2", "contain", 90, "k4"), &later).await.unwrap();
    assert!(d.opened && d.incident != a.incident);

    let i = s.incident(a.incident).await.unwrap().unwrap();
    assert_eq!((i.severity, i.alert_count, i.status), (Severity::P1, 2, IncidentStatus::Detected));
    assert!(i.drill && i.plan_hash == B256::repeat_byte(7));
    let alerts = s.incident_alerts(a.incident).await.unwrap();
    assert_eq!(alerts.iter().map(|a| a.dedup_key.as_str()).collect::<Vec<_>>(), ["k1", "k2"]);
    let kinds: Vec<String> =
        s.timeline(a.incident).await.unwrap().into_iter().map(|e| e.kind().to_owned()).collect();
    assert_eq!(kinds, ["incident_opened", "severity_raised"]);
    assert_eq!(s.incidents(&IncidentFilter::default()).await.unwrap().len(), 3);
    assert!(s.incident(IncidentId(999)).await.unwrap().is_none());
}

async fn a_storm_of_alerts_is_one_incident_with_a_short_timeline(s: Store) {
    let t0 = 1_800_000_000_000;
    let mut ids = std::collections::BTreeSet::new();
    for i in 0..10_000u64 {
        let monitor = if i % 2 == 0 { "drain" } else { "flash" };
        let a = alert(monitor, "P1", "contain", 100 + i / 10, &format!("storm-{i}"));
        ids.insert(s.record_alert(&a, &grouping(t0 + i)).await.unwrap().incident);
    }
    assert_eq!(ids.len(), 1, "10,000 alerts of one playbook in the window open one incident");
    let id = *ids.first().unwrap();
    assert_eq!(s.incident(id).await.unwrap().unwrap().alert_count, 10_000);
    // one entry for the opening alert, one for the first alert of the other monitor
    let timeline = s.timeline(id).await.unwrap();
    assert_eq!(timeline.len(), 2);
    verify_chain(&timeline).unwrap();
}

async fn the_lifecycle_only_moves_forward_and_is_recorded(s: Store) {
    let id = s.record_alert(&alert("m", "P1", "p", 1, "a"), &grouping(1)).await.unwrap().incident;
    let ana = Actor::Member("ana".into());
    assert!(s.transition(id, IncidentStatus::Acknowledged, ana.clone(), None).await.unwrap());
    assert!(s.transition(id, IncidentStatus::Contained, Actor::System, None).await.unwrap());
    assert!(!s.transition(id, IncidentStatus::Acknowledged, ana.clone(), None).await.unwrap());
    let note = Some("funds back".to_owned());
    assert!(s.transition(id, IncidentStatus::Resolved, ana.clone(), note).await.unwrap());
    assert_eq!(s.incident(id).await.unwrap().unwrap().status, IncidentStatus::Resolved);
    let status: Vec<(Actor, String)> = s
        .timeline(id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind() == "status")
        .map(|e| (e.actor, e.body["to"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        status,
        [
            (ana.clone(), "acknowledged".to_owned()),
            (Actor::System, "contained".to_owned()),
            (ana, "resolved".to_owned())
        ]
    );
    // a resolved incident takes no more alerts: the next one opens a new incident
    let next = s.record_alert(&alert("m", "P1", "p", 2, "b"), &grouping(2)).await.unwrap();
    assert!(next.opened && next.incident != id);
    let missing = s.transition(IncidentId(42), IncidentStatus::Resolved, Actor::System, None);
    assert!(missing.await.unwrap_err().to_string().contains("no incident 42"));
}

async fn every_write_extends_a_verifying_hash_chain(s: Store) {
    let id = s.record_alert(&alert("m", "P1", "p", 1, "a"), &grouping(1)).await.unwrap().incident;
    s.append(
        id,
        Actor::External("whitehat".into()),
        firebreak_primitives::Event::Note(firebreak_primitives::event::Note { text: "hi".into() }),
    )
    .await
    .unwrap();
    s.set_step(id, "pause", 0, StepStatus::Running, None).await.unwrap();
    s.decide(id, "pause", "ana", true).await.unwrap();
    let t = s.timeline(id).await.unwrap();
    assert_eq!(t.len(), 4);
    assert_eq!(t[0].prev_hash, firebreak_store::timeline::GENESIS);
    for w in t.windows(2) {
        assert_eq!(w[1].prev_hash, w[0].hash);
    }
    verify_chain(&t).unwrap();
    let mut forged = t;
    forged[1].body = serde_json::json!({"text": "bye"});
    assert!(verify_chain(&forged).is_err());
}

async fn steps_count_attempts_and_record_changes(s: Store) {
    let id = s.record_alert(&alert("m", "P1", "p", 1, "a"), &grouping(1)).await.unwrap().incident;
    s.set_step(id, "pause", 0, StepStatus::Pending, None).await.unwrap();
    s.set_step(id, "notify", 1, StepStatus::Pending, None).await.unwrap();
    s.set_step(id, "pause", 0, StepStatus::Running, None).await.unwrap();
    // resuming a running step after a restart does not count a new attempt
    let again = s.set_step(id, "pause", 0, StepStatus::Running, None).await.unwrap();
    assert_eq!(again.attempts, 1);
    let done = s.set_step(id, "pause", 0, StepStatus::Succeeded, Some("mined".into()));
    assert_eq!(done.await.unwrap().attempts, 1);
    let steps = s.steps(id).await.unwrap();
    assert_eq!(
        steps.iter().map(|s| (s.step_id.as_str(), s.status)).collect::<Vec<_>>(),
        [("pause", StepStatus::Succeeded), ("notify", StepStatus::Pending)]
    );
    let step_entries = s.timeline(id).await.unwrap().iter().filter(|e| e.kind() == "step").count();
    assert_eq!(step_entries, 4, "the repeated `running` is not recorded twice");
}

/// A planned guardian pause of incident `id` (sender 0x01…, target 0x02…).
fn guardian_pause(id: IncidentId) -> ActionRecord {
    ActionRecord {
        key: format!("{id}/pause/signer:guardian/vault").parse().unwrap(),
        incident: id,
        step_id: "pause".into(),
        chain_id: 31337,
        kind: ActionKind::Guardian,
        from: Address::repeat_byte(1),
        to: Address::repeat_byte(2),
        calldata: Bytes::from_static(&[0x84, 0x56, 0xcb, 0x59]),
        value: Default::default(),
        nonce: None,
        status: ActionStatus::Planned,
        attempts: vec![],
        receipt: None,
        safe_tx: None,
        safe_tx_hash: None,
        error: None,
        created_ms: 5,
        updated_ms: 5,
    }
}

async fn actions_round_trip_with_attempts(s: Store) {
    let id = s.record_alert(&alert("m", "P1", "p", 1, "a"), &grouping(1)).await.unwrap().incident;
    let mut a = guardian_pause(id);
    let planned =
        firebreak_primitives::Event::ActionPlanned(firebreak_primitives::event::ActionPlanned {
            action: a.key.to_string(),
            path: "signer:guardian".into(),
            contract: None,
            from: None,
            contracts: None,
            relayer: None,
        });
    s.put_action(a.clone(), Some(planned)).await.unwrap();
    a.nonce = Some(3);
    a.status = ActionStatus::Sent;
    a.attempts.push(TxAttempt {
        hash: B256::repeat_byte(9),
        raw: Bytes::from_static(b"\x02raw"),
        nonce: 3,
        max_fee: 30_000_000_000,
        priority_fee: u128::from(u64::MAX) + 1,
        at_ms: 6,
    });
    a.safe_tx_hash = Some(B256::repeat_byte(4));
    a.receipt = Some(serde_json::json!({"block": 12}));
    s.put_action(a.clone(), None).await.unwrap();
    let back = s.action(&a.key).await.unwrap().unwrap();
    assert_eq!(back.attempts, a.attempts);
    assert_eq!(
        (back.nonce, back.status, back.safe_tx_hash),
        (Some(3), ActionStatus::Sent, a.safe_tx_hash)
    );
    assert_eq!(back.receipt, a.receipt);
    assert_eq!(s.actions(id).await.unwrap().len(), 1);
    let nope = format!("{id}/nope/signer:guardian/vault").parse().unwrap();
    assert!(s.action(&nope).await.unwrap().is_none());
}

async fn one_decision_per_member_and_one_signature_per_owner(s: Store) {
    let id = s.record_alert(&alert("m", "P1", "p", 1, "a"), &grouping(1)).await.unwrap().incident;
    assert!(s.decide(id, "pause", "ana", true).await.unwrap());
    assert!(!s.decide(id, "pause", "ana", true).await.unwrap(), "ana counts once");
    assert!(!s.decide(id, "pause", "ana", false).await.unwrap(), "the first decision stands");
    assert!(s.decide(id, "pause", "bo", false).await.unwrap());
    let d = s.approvals(id).await.unwrap();
    assert_eq!(
        d.iter().map(|d| (d.member.as_str(), d.approve)).collect::<Vec<_>>(),
        [("ana", true), ("bo", false)]
    );
    let hash = B256::repeat_byte(3);
    let sig = SafeSignature {
        safe_tx_hash: hash,
        signer: Address::repeat_byte(0xb0),
        signature: Bytes::from(vec![1u8; 65]),
        source: "member:bo".into(),
    };
    let actor = Some((id, Actor::Member("bo".into())));
    assert!(s.add_signature(sig.clone(), actor.clone()).await.unwrap());
    assert!(!s.add_signature(sig.clone(), actor).await.unwrap());
    assert_eq!(s.signatures(hash).await.unwrap(), [sig]);
    let t = s.timeline(id).await.unwrap();
    assert_eq!(t.iter().filter(|e| e.kind() == "safe_signature").count(), 1);
    assert_eq!(t.last().unwrap().actor, Actor::Member("bo".into()));
}

async fn presigned_batches_and_unlinked_alerts(s: Store) {
    let safe = Address::repeat_byte(0x5a);
    for nonce in [4, 5] {
        s.put_presigned(Presigned {
            chain_id: 1,
            safe,
            nonce,
            safe_tx_hash: B256::with_last_byte(nonce as u8),
            safe_tx: serde_json::json!({"nonce": nonce}),
            contracts: vec!["vault".into()],
            created_ms: nonce,
        })
        .await
        .unwrap();
    }
    let p = s.presigned(1, safe).await.unwrap();
    assert_eq!(p.iter().map(|p| p.nonce).collect::<Vec<_>>(), [5, 4]);
    assert!(s.presigned(2, safe).await.unwrap().is_empty());

    // an alert stored by the watcher but never grouped (a crash in between)
    let lone = alert("m", "P1", "p", 1, "lone");
    let commit = firebreak_store::BlockCommit {
        checkpoint: firebreak_store::Checkpoint { chain_id: 31337, number: 1, hash: B256::ZERO },
        alerts: vec![lone.clone()],
        retracted: vec![],
    };
    s.commit(commit).await.unwrap();
    assert_eq!(s.unlinked_alerts(0).await.unwrap(), std::slice::from_ref(&lone));
    let future = firebreak_primitives::now_ms() + 60_000;
    assert!(s.unlinked_alerts(future).await.unwrap().is_empty(), "older alerts are left alone");
    s.record_alert(&lone, &grouping(1)).await.unwrap();
    assert!(s.unlinked_alerts(0).await.unwrap().is_empty());
}

async fn the_outbox_keeps_order_per_incident_and_channel_and_each_key_once(s: Store) {
    let id = s.record_alert(&alert("m", "P1", "p", 1, "a"), &grouping(1)).await.unwrap().incident;
    let msg = |key: &str, channel: &str| firebreak_store::OutboxMessage {
        id: 0,
        key: key.into(),
        incident: Some(id),
        channel: channel.into(),
        body: serde_json::json!({"event": "incident_opened", "n": key}),
        status: "pending".into(),
        attempts: 0,
        next_at_ms: 100,
        last_error: None,
        created_ms: 100,
    };
    for (k, c) in [("s1", "slack"), ("s2", "slack"), ("d1", "discord"), ("s3", "slack")] {
        assert!(s.enqueue(msg(k, c)).await.unwrap());
    }
    assert!(!s.enqueue(msg("s1", "slack")).await.unwrap(), "a key is stored once");
    let keys =
        |v: Vec<firebreak_store::OutboxMessage>| v.into_iter().map(|m| m.key).collect::<Vec<_>>();
    assert!(s.due_messages(99, 10).await.unwrap().is_empty(), "nothing before it is due");
    let due = s.due_messages(1_000, 10).await.unwrap();
    assert_eq!(keys(due.clone()), ["s1", "d1"], "only the oldest per channel");
    // s1 fails and waits: s2 must wait behind it
    s.attempt_failed(due[0].id, 1, "HTTP 503".into(), Some(5_000)).await.unwrap();
    assert_eq!(keys(s.due_messages(1_000, 10).await.unwrap()), ["d1"]);
    s.delivered(due[1].id, 1).await.unwrap();
    assert!(s.due_messages(1_000, 10).await.unwrap().is_empty());
    let again = s.due_messages(5_000, 10).await.unwrap();
    assert_eq!(keys(again.clone()), ["s1"]);
    assert_eq!(again[0].attempts, 1);
    s.delivered(again[0].id, 2).await.unwrap();
    assert_eq!(keys(s.due_messages(5_000, 10).await.unwrap()), ["s2"]);
    let s2 = s.due_messages(5_000, 10).await.unwrap().remove(0);
    s.attempt_failed(s2.id, 9, "HTTP 400: bad payload".into(), None).await.unwrap();
    assert_eq!(
        keys(s.due_messages(5_000, 10).await.unwrap()),
        ["s3"],
        "a failed message no longer blocks"
    );
    let kinds: Vec<String> =
        s.timeline(id).await.unwrap().into_iter().map(|e| e.kind().to_owned()).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "message_delivered").count(), 2);
    assert_eq!(kinds.iter().filter(|k| *k == "message_failed").count(), 1);
    // a first failure is on the timeline at once, later retries are not
    let retrying: Vec<_> = s
        .timeline(id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind() == "message_retrying")
        .collect();
    assert_eq!(retrying.len(), 1, "{retrying:?}");
    assert_eq!(retrying[0].body["error"], "HTTP 503");
    assert_eq!(retrying[0].body["retry_at_ms"], 5_000);
    assert_eq!(s.outbox(Some(id)).await.unwrap().len(), 4);
}

#[allow(clippy::disallowed_methods)] // thirty callers racing, as thirty people pressing at once
async fn thirty_acknowledgements_at_once_record_one(s: Store) {
    let id = s.record_alert(&alert("m", "P1", "p", 1, "a"), &grouping(1)).await.unwrap().incident;
    let mut racers = tokio::task::JoinSet::new();
    for n in 0..30 {
        let s = s.clone();
        racers.spawn(async move {
            let who = format!("member{n}");
            let ack = firebreak_primitives::Event::Acknowledged(
                firebreak_primitives::event::Acknowledged {
                    member: who.clone(),
                    how: "test".into(),
                },
            );
            s.append_once(id, Actor::Member(who), ack).await.unwrap()
        });
    }
    let mut recorded = Vec::new();
    let mut standing = Vec::new();
    while let Some(r) = racers.join_next().await {
        let (new, entry) = r.unwrap();
        if new {
            recorded.push(entry.seq);
        }
        standing.push(entry.seq);
    }
    assert_eq!(recorded.len(), 1, "one acknowledgement is recorded");
    assert!(standing.iter().all(|seq| *seq == recorded[0]), "everyone is told the same one");
    let t = s.timeline(id).await.unwrap();
    assert_eq!(t.iter().filter(|e| e.kind() == "acknowledged").count(), 1);
    verify_chain(&t).unwrap();
}

#[allow(clippy::disallowed_methods)] // replicas writing at once
async fn three_replicas_writing_one_timeline_keep_it_gap_free_and_chained(replicas: Vec<Store>) {
    let id = replicas[0]
        .record_alert(&alert("m", "P1", "p", 1, "a"), &grouping(1))
        .await
        .unwrap()
        .incident;
    let mut writers = tokio::task::JoinSet::new();
    for (r, s) in replicas.iter().enumerate() {
        let s = s.clone();
        writers.spawn(async move {
            for n in 0..20 {
                let note = firebreak_primitives::Event::Note(firebreak_primitives::event::Note {
                    text: format!("replica {r} note {n}"),
                });
                s.append(id, Actor::System, note).await.unwrap();
            }
        });
    }
    while let Some(done) = writers.join_next().await {
        done.unwrap();
    }
    let t = replicas[2].timeline(id).await.unwrap();
    assert_eq!(t.len(), 61, "the opening entry and 60 notes, none lost");
    let incident = replicas[1].incident(id).await.unwrap().unwrap();
    firebreak_store::verify_incident(&incident, &t).unwrap();
    for r in 0..3 {
        let mine: Vec<_> = t
            .iter()
            .filter_map(|e| e.body["text"].as_str())
            .filter(|text| text.starts_with(&format!("replica {r} ")))
            .collect();
        let expected: Vec<_> = (0..20).map(|n| format!("replica {r} note {n}")).collect();
        assert_eq!(mine, expected, "each replica's entries, in its order");
    }
}

#[allow(clippy::disallowed_methods)] // replicas seeing one attack at once
async fn one_attack_seen_by_three_replicas_opens_one_incident(replicas: Vec<Store>) {
    let keys = ["a", "b", "c", "d"];
    let mut seers = tokio::task::JoinSet::new();
    for (r, s) in replicas.iter().enumerate() {
        let s = s.clone();
        seers.spawn(async move {
            let mut outcomes = Vec::new();
            // each replica sees the attack's alerts in an order of its own
            for i in 0..keys.len() {
                let key = keys[(i + r) % keys.len()];
                let a = alert("m", "P1", "p", 1, key);
                outcomes.push(s.record_alert(&a, &grouping(1_000)).await.unwrap());
            }
            outcomes
        });
    }
    let mut all = Vec::new();
    while let Some(done) = seers.join_next().await {
        all.extend(done.unwrap());
    }
    let incidents: std::collections::BTreeSet<_> = all.iter().map(|o| o.incident).collect();
    assert_eq!(incidents.len(), 1, "one incident: {all:?}");
    assert_eq!(all.iter().filter(|o| o.opened).count(), 1, "opened once");
    assert_eq!(all.iter().filter(|o| o.new).count(), keys.len(), "each alert recorded once");
    let id = all[0].incident;
    let incident = replicas[0].incident(id).await.unwrap().unwrap();
    assert_eq!(incident.alert_count, keys.len() as u64);
    let t = replicas[0].timeline(id).await.unwrap();
    assert_eq!(t.iter().filter(|e| e.kind() == "incident_opened").count(), 1);
    firebreak_store::verify_incident(&incident, &t).unwrap();
}

async fn a_lease_fences_every_action_write_of_its_holder(s: Store) {
    let id = s.record_alert(&alert("m", "P1", "p", 1, "a"), &grouping(1)).await.unwrap().incident;
    let name = firebreak_store::signer_lease(31337, Address::repeat_byte(1));
    let a = s.acquire_lease(&name, "replica-a", 60_000).await.unwrap().expect("free");
    assert_eq!((a.holder.as_str(), a.epoch), ("replica-a", 1));
    assert_eq!(s.acquire_lease(&name, "replica-b", 60_000).await.unwrap(), None, "held by a");
    let renewed = s.acquire_lease(&name, "replica-a", 60_000).await.unwrap().unwrap();
    assert_eq!(renewed.epoch, 1, "renewing keeps the epoch");
    assert!(renewed.expires_ms >= a.expires_ms);

    let mut action = guardian_pause(id);
    action.nonce = Some(0);
    s.put_action_fenced(action.clone(), None, &a.fence()).await.unwrap();

    // a hands over (or dies and its lease runs out): b takes it, epoch 2
    s.release_lease(&name, "replica-a").await.unwrap();
    let b = s.acquire_lease(&name, "replica-b", 60_000).await.unwrap().expect("released");
    assert_eq!((b.holder.as_str(), b.epoch), ("replica-b", 2));

    // a, still believing it holds the lease, tries to record a signed transaction
    let before = s.timeline(id).await.unwrap().len();
    action.status = ActionStatus::Sent;
    let note = firebreak_primitives::Event::Note(firebreak_primitives::event::Note {
        text: "sent by a".into(),
    });
    let refused = s.put_action_fenced(action.clone(), Some(note), &a.fence()).await.unwrap_err();
    let text = refused.to_string();
    assert!(matches!(refused, firebreak_store::Error::Fenced { epoch: 1, .. }), "{text}");
    assert!(text.contains("`replica-b` holds it at epoch 2"), "{text}");
    let stored = s.action(&action.key).await.unwrap().unwrap();
    assert_eq!(stored.status, ActionStatus::Planned, "nothing of a's was written");
    assert_eq!(s.timeline(id).await.unwrap().len(), before, "nor its timeline entry");

    // b's write lands
    s.put_action_fenced(action.clone(), None, &b.fence()).await.unwrap();
    assert_eq!(s.action(&action.key).await.unwrap().unwrap().status, ActionStatus::Sent);

    // a lease that runs out fences its own holder too, and goes to the next
    // taker with a new epoch
    let short = s.acquire_lease("signer:1:short", "replica-c", 0).await.unwrap().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let ran_out =
        s.put_action_fenced(action.clone(), None, &short.fence()).await.unwrap_err().to_string();
    assert!(ran_out.contains("ran out"), "{ran_out}");
    let next = s.acquire_lease("signer:1:short", "replica-a", 60_000).await.unwrap().unwrap();
    assert_eq!(next.epoch, short.epoch + 1);

    // several at once: all or nothing
    let both = vec!["signer:1:other".to_owned(), name.clone()];
    assert_eq!(s.acquire_leases(&both, "replica-c", 60_000).await.unwrap(), None, "b holds one");
    assert!(
        s.leases().await.unwrap().leases.iter().all(|l| l.name != "signer:1:other"),
        "nothing of a refused call is kept"
    );
    let mine = vec!["signer:1:short".to_owned()];
    let renewed = s.acquire_leases(&mine, "replica-a", 60_000).await.unwrap().unwrap();
    assert_eq!((renewed.len(), renewed[0].epoch), (1, next.epoch));

    let table = s.leases().await.unwrap();
    let names: Vec<_> = table.leases.iter().map(|l| (l.name.as_str(), l.holder.as_str())).collect();
    assert_eq!(
        names,
        vec![("signer:1:short", "replica-a"), (name.as_str(), "replica-b")],
        "by name"
    );
    assert!(table.leases.iter().all(|l| l.expires_ms >= table.now_ms));
}

#[allow(clippy::disallowed_methods)] // couriers claiming at once
async fn couriers_of_three_replicas_never_claim_one_message(replicas: Vec<Store>) {
    let s = &replicas[0];
    let id = s.record_alert(&alert("m", "P1", "p", 1, "a"), &grouping(1)).await.unwrap().incident;
    // forty channels, one message each: all due at once
    for n in 0..40 {
        let m = firebreak_store::OutboxMessage {
            id: 0,
            key: format!("k{n}"),
            incident: Some(id),
            channel: format!("ch{n}"),
            body: serde_json::json!({"event": "page"}),
            status: "pending".into(),
            attempts: 0,
            next_at_ms: 100,
            last_error: None,
            created_ms: 100,
        };
        assert!(s.enqueue(m).await.unwrap());
    }
    let mut couriers = tokio::task::JoinSet::new();
    for (r, s) in replicas.iter().enumerate() {
        let s = s.clone();
        couriers.spawn(async move {
            let mut mine = Vec::new();
            for _ in 0..5 {
                let claimed = s.claim_due(&format!("replica-{r}"), 1_000, 7, 60_000).await.unwrap();
                mine.extend(claimed.into_iter().map(|m| m.key));
            }
            mine
        });
    }
    let mut all = Vec::new();
    while let Some(done) = couriers.join_next().await {
        let mut mine = done.unwrap();
        mine.sort();
        mine.dedup();
        all.extend(mine);
    }
    all.sort();
    let claimed = all.len();
    all.dedup();
    assert_eq!(all.len(), claimed, "a message claimed by two couriers");
    // another holder gets nothing while the claims stand, and what is
    // delivered is no longer anyone's
    assert!(s.claim_due("late", 1_000, 100, 60_000).await.unwrap().len() == 40 - claimed);
    let first = s.outbox(Some(id)).await.unwrap()[0].clone();
    s.delivered(first.id, 1).await.unwrap();
    // a claim that ran out goes to the next courier
    let short = s.claim_due("short", 1_000, 100, 0).await.unwrap();
    assert!(short.is_empty(), "every message is claimed or delivered");
    let m2 = s.outbox(Some(id)).await.unwrap()[1].clone();
    s.attempt_failed(m2.id, 1, "HTTP 503".into(), Some(500)).await.unwrap();
    let again = s.claim_due("quick", 1_000, 100, 0).await.unwrap();
    assert_eq!(
        again.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![m2.id],
        "a failed attempt frees its claim"
    );
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let taken = s.claim_due("next", 1_000, 100, 60_000).await.unwrap();
    assert_eq!(taken.iter().map(|m| m.id).collect::<Vec<_>>(), vec![m2.id], "its claim ran out");
}
