//! The alert store's conformance suite: every test runs on SQLite and on
//! PostgreSQL (a throwaway cluster per test, see `firebreak_test_utils::pg`).

use std::{collections::BTreeMap, sync::Arc};

use alloy_primitives::B256;
use firebreak_primitives::Alert;
use firebreak_store::{AlertStore, BlockCommit, Checkpoint, PgStore, SqliteStore};

use firebreak_test_utils::pg::PgCluster;

type Store = Arc<dyn AlertStore>;

/// A store to test and how to open it again (a second handle, as after a
/// restart or on another replica).
struct Backend {
    store: Store,
    reopen: Box<dyn Fn() -> futures::future::BoxFuture<'static, Store> + Send>,
    _keep: Box<dyn std::any::Any + Send>,
}

macro_rules! conformance {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let path = dir.path().join("t.db");
                    let store = super::SqliteStore::open(&path).await.unwrap();
                    let reopen = Box::new(move || {
                        let path = path.clone();
                        Box::pin(async move {
                            std::sync::Arc::new(super::SqliteStore::open(&path).await.unwrap())
                                as super::Store
                        }) as futures::future::BoxFuture<'static, super::Store>
                    });
                    super::$name(super::Backend { store: std::sync::Arc::new(store), reopen, _keep: Box::new(dir) }).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let cluster = super::PgCluster::start();
                    let url = cluster.url.clone();
                    let store = super::PgStore::connect(&url).await.unwrap();
                    let reopen = Box::new(move || {
                        let url = url.clone();
                        Box::pin(async move {
                            std::sync::Arc::new(super::PgStore::connect(&url).await.unwrap())
                                as super::Store
                        }) as futures::future::BoxFuture<'static, super::Store>
                    });
                    super::$name(super::Backend { store: std::sync::Arc::new(store), reopen, _keep: Box::new(cluster) }).await;
                }
            )+
        }
    };
}

conformance!(
    each_alert_is_stored_once_and_the_checkpoint_moves_with_it,
    a_reorg_retracts_alerts_and_rewinds_the_checkpoint,
    a_second_handle_sees_everything_and_migrating_again_changes_nothing,
);

fn alert(block: u64, key: &str) -> Alert {
    Alert {
        monitor: "price".into(),
        severity: firebreak_primitives::Severity::P1,
        playbook: Some("contain".into()),
        chain_id: 1,
        block_number: block,
        block_hash: B256::with_last_byte(block as u8),
        tx_hash: None,
        log_index: Some(0),
        evidence: BTreeMap::from([("amount".to_owned(), "5".to_owned())]),
        probes: BTreeMap::new(),
        dedup_key: key.into(),
        confirmations: 0,
    }
}

fn cp(number: u64) -> Checkpoint {
    Checkpoint { chain_id: 1, number, hash: B256::with_last_byte(number as u8) }
}

async fn each_alert_is_stored_once_and_the_checkpoint_moves_with_it(b: Backend) {
    let s = &b.store;
    assert_eq!(s.checkpoint(1).await.unwrap(), None);
    let fresh = s
        .commit(BlockCommit {
            checkpoint: cp(10),
            alerts: vec![alert(10, "a"), alert(10, "b")],
            retracted: vec![],
        })
        .await
        .unwrap();
    assert_eq!(fresh, vec![true, true]);
    // the same alert again (a restart replays the block): not new
    let again = s
        .commit(BlockCommit {
            checkpoint: cp(11),
            alerts: vec![alert(10, "a"), alert(11, "c")],
            retracted: vec![],
        })
        .await
        .unwrap();
    assert_eq!(again, vec![false, true]);
    assert_eq!(s.checkpoint(1).await.unwrap(), Some(cp(11)));
    let keys: Vec<String> =
        s.alerts(1, 0).await.unwrap().into_iter().map(|a| a.alert.dedup_key).collect();
    assert_eq!(keys, ["a", "b", "c"], "in block order, then as stored");
    assert_eq!(s.alerts(1, 11).await.unwrap().len(), 1);
    assert!(s.alerts(2, 0).await.unwrap().is_empty(), "another chain has none");
    assert_eq!(
        s.alerts(1, 0).await.unwrap()[0].alert,
        alert(10, "a"),
        "the alert comes back whole"
    );
}

async fn a_reorg_retracts_alerts_and_rewinds_the_checkpoint(b: Backend) {
    let s = &b.store;
    s.commit(BlockCommit { checkpoint: cp(12), alerts: vec![alert(12, "x")], retracted: vec![] })
        .await
        .unwrap();
    // block 12 was orphaned: its alert is retracted, the checkpoint goes back
    s.commit(BlockCommit { checkpoint: cp(11), alerts: vec![], retracted: vec!["x".into()] })
        .await
        .unwrap();
    let stored = s.alerts(1, 0).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].retracted);
    assert_eq!(s.checkpoint(1).await.unwrap(), Some(cp(11)));
}

async fn a_second_handle_sees_everything_and_migrating_again_changes_nothing(b: Backend) {
    b.store
        .commit(BlockCommit { checkpoint: cp(5), alerts: vec![alert(5, "k")], retracted: vec![] })
        .await
        .unwrap();
    let other = (b.reopen)().await;
    assert_eq!(other.checkpoint(1).await.unwrap(), Some(cp(5)));
    assert_eq!(other.alerts(1, 0).await.unwrap().len(), 1);
    // writes through either handle are one record
    other
        .commit(BlockCommit { checkpoint: cp(6), alerts: vec![alert(6, "l")], retracted: vec![] })
        .await
        .unwrap();
    assert_eq!(b.store.alerts(1, 0).await.unwrap().len(), 2);
}

/// Replicas starting at once on a new database migrate it once, in turn
/// (PostgreSQL's advisory lock), and all come up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::disallowed_methods)] // replicas starting at once
async fn replicas_connecting_at_once_to_a_new_database_all_come_up() {
    let cluster = PgCluster::start();
    let mut replicas = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let url = cluster.url.clone();
        replicas.spawn(async move { PgStore::connect(&url).await.map(|_| ()) });
    }
    while let Some(up) = replicas.join_next().await {
        up.unwrap().unwrap();
    }
    let store = PgStore::connect(&cluster.url).await.unwrap();
    assert_eq!(store.checkpoint(1).await.unwrap(), None);
}

/// Replica heartbeats on both backends: the latest beat per replica, newest
/// first.
mod replicas {
    use firebreak_store::{ChainBeat, PgStore, ReplicaBeat, ReplicaStore, SqliteStore};

    fn beat(replica: &str, at: u64, processed: u64) -> ReplicaBeat {
        ReplicaBeat {
            replica: replica.into(),
            host: "h".into(),
            pid: 7,
            started_ms: 1,
            beat_ms: at,
            ready: true,
            chains: vec![ChainBeat {
                chain: "local".into(),
                head: Some(120),
                processed: Some(processed),
            }],
        }
    }

    async fn each_replica_keeps_its_latest_beat(s: &dyn ReplicaStore) {
        s.beat(&beat("a", 10, 100)).await.unwrap();
        s.beat(&beat("b", 20, 118)).await.unwrap();
        s.beat(&beat("a", 30, 120)).await.unwrap();
        let all = s.replicas().await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].replica.as_str(), all[0].beat_ms), ("a", 30), "newest first");
        assert_eq!(all[0].chains[0].lag(), Some(0));
        assert_eq!(all[1].chains[0].lag(), Some(2));
    }

    #[tokio::test]
    async fn sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
        each_replica_keeps_its_latest_beat(&s).await;
    }

    #[tokio::test]
    async fn postgres() {
        let cluster = firebreak_test_utils::pg::PgCluster::start();
        let s = PgStore::connect(&cluster.url).await.unwrap();
        each_replica_keeps_its_latest_beat(&s).await;
    }
}

/// A drive request announced by one replica reaches the others (PostgreSQL
/// `LISTEN`/`NOTIFY`), in order; SQLite has one daemon per file and nothing
/// to listen to.
#[tokio::test]
async fn a_drive_request_of_one_replica_reaches_the_others() {
    use firebreak_primitives::IncidentId;
    use firebreak_store::Wakeups as _;
    use futures::StreamExt as _;
    let cluster = PgCluster::start();
    let a = PgStore::connect(&cluster.url).await.unwrap();
    let b = PgStore::connect(&cluster.url).await.unwrap();
    let mut requests = b.drive_requests().await.unwrap().expect("PostgreSQL tells replicas");
    a.announce_drive(IncidentId(7)).await.unwrap();
    a.announce_drive(IncidentId(9)).await.unwrap();
    // the guard only keeps a broken build from hanging the suite
    let guard = std::time::Duration::from_secs(60);
    let got = tokio::time::timeout(guard, requests.by_ref().take(2).collect::<Vec<_>>()).await;
    assert_eq!(got.unwrap(), vec![IncidentId(7), IncidentId(9)]);
    let dir = tempfile::tempdir().unwrap();
    let lone = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
    assert!(lone.drive_requests().await.unwrap().is_none());
}
