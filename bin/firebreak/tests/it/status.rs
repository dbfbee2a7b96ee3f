//! `firebreak status` lists the replicas from their heartbeats: up and
//! ready, NOT READY, or silent (exit 1 when no daemon is up).

use firebreak_store::{ChainBeat, ReplicaBeat, ReplicaStore as _};

use crate::{firebreak, stderr, stdout};

fn beat(replica: &str, age_ms: u64, ready: bool) -> ReplicaBeat {
    let now = firebreak_primitives::now_ms();
    ReplicaBeat {
        replica: replica.into(),
        host: "ops-1".into(),
        pid: 4242,
        started_ms: now - 3_600_000,
        beat_ms: now - age_ms,
        ready,
        chains: vec![ChainBeat { chain: "mainnet".into(), head: Some(100), processed: Some(98) }],
    }
}

#[tokio::test]
async fn status_lists_replicas_and_fails_when_none_is_up() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("firebreak.db");
    let db_s = db.to_str().unwrap().to_owned();
    let store = firebreak_store::SqliteStore::open(&db).await.unwrap();
    store.beat(&beat("ops-1:4242:beef", 120_000, true)).await.unwrap();
    // only a silent replica: nothing watches the protocol
    let out = firebreak(&["status", "--db", &db_s]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("ops-1:4242:beef  SILENT"), "{}", stdout(&out));
    assert!(stderr(&out).contains("no daemon is up"), "{}", stderr(&out));
    // a live one, NOT READY, and lagging two blocks
    store.beat(&beat("ops-2:7:cafe", 1_000, false)).await.unwrap();
    let out = firebreak(&["status", "--db", &db_s]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("ops-2:7:cafe  up, NOT READY"), "{text}");
    assert!(text.contains("mainnet: head 100, processed 98, lag 2 block(s)"), "{text}");
    let json = firebreak(&["status", "--db", &db_s, "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(doc["up"], 1);
    assert_eq!(doc["replicas"][0]["silent"], false);
    assert_eq!(doc["replicas"][1]["silent"], true);
}

/// On PostgreSQL: `store migrate` creates the schema, and `status` lists the
/// replicas and the leases — who acts, at which epoch, and a lease nobody
/// holds.
#[tokio::test]
async fn on_postgres_status_lists_the_leases_and_who_holds_them() {
    use firebreak_store::LeaseStore as _;
    let pg = firebreak_test_utils::pg::PgCluster::start();
    let migrated = firebreak(&["store", "migrate", "--db", &pg.url]);
    assert_eq!(migrated.status.code(), Some(0), "{}", stderr(&migrated));
    let text = stdout(&migrated);
    assert!(text.contains("(postgres): schema at version 6"), "{text}");
    let store = firebreak_store::PgStore::connect(&pg.url).await.unwrap();
    store.beat(&beat("ops-2:7:cafe", 1_000, true)).await.unwrap();
    store.acquire_lease("executor", "ops-2:7:cafe", 60_000).await.unwrap().unwrap();
    let gone = "signer:1:0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    store.acquire_lease(gone, "ops-1:9:dead", 0).await.unwrap().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let out = firebreak(&["status", "--db", &pg.url]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("ops-2:7:cafe  up, ready"), "{text}");
    assert!(text.contains("executor  held by ops-2:7:cafe at epoch 1"), "{text}");
    assert!(text.contains(&format!("{gone}  HELD BY NO REPLICA (last ops-1:9:dead")), "{text}");
    let json = firebreak(&["status", "--db", &pg.url, "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    let held: Vec<(String, bool)> = doc["leases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["name"].as_str().unwrap().to_owned(), l["held"].as_bool().unwrap()))
        .collect();
    assert_eq!(held, vec![("executor".to_owned(), true), (gone.to_owned(), false)]);
}
