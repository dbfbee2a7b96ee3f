//! Which P1 pause paths cannot sign: a key whose variable is unset when the
//! daemon starts (it used to start "ready", one WARN line, and the pause
//! failed at the exploit), and a Safe whose relayer has no key.

use std::sync::Arc;

use firebreak_store::SqliteStore;
use firebreak_store::prelude::*;
use firebreak_test_utils::{Pauser, World, WorldExt as _};

#[tokio::test]
async fn anvil_an_unset_key_variable_and_a_safe_without_a_usable_relayer_are_not_ready() {
    let w = World::new(Pauser::Guardian).await.unwrap();
    let text = w
        .plan_text(r#"[{ signer = "guardian" }, { safe = "emergency" }]"#, &["owner-a", "owner-b"])
        .replace(
            "[signers.guardian]\nanvil_account = 1",
            &format!(
                "[signers.guardian]\nenv = \"FB_TEST_GUARDIAN_KEY_UNSET\"\naddress = \"{}\"",
                w.chain.dev_address(1)
            ),
        )
        .replace(
            "[signers.relayer]\nanvil_account = 6",
            "[signers.relayer]\nenv = \"FB_TEST_RELAYER_KEY_UNSET\"",
        );
    assert!(
        text.contains("FB_TEST_GUARDIAN_KEY_UNSET") && text.contains("FB_TEST_RELAYER_KEY_UNSET")
    );
    let plan = Arc::new(w.load_plan(&text).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let executor = crate::executor(&w, &plan, &store).await;
    let problems = executor.containment_problems();
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(problems.len(), 2, "{lines:#?}");
    assert_eq!((problems[0].contract.as_str(), problems[0].signer.as_str()), ("vault", "relayer"));
    assert!(lines[0].contains("through Safe `emergency`"), "{}", lines[0]);
    assert!(lines[0].contains("FB_TEST_RELAYER_KEY_UNSET` is not set"), "{}", lines[0]);
    assert_eq!(problems[1].signer, "guardian");
    assert!(lines[1].contains("through signer `guardian`"), "{}", lines[1]);
    assert!(lines[1].contains("FB_TEST_GUARDIAN_KEY_UNSET` is not set"), "{}", lines[1]);
    assert_eq!(problems[1].playbooks, ["contain"]);

    // the readiness incident: P1, the problems recorded; this plan has no
    // one to page, which the record says (once, however often it is raised)

    let id = executor.raise_readiness(&problems, false).await.unwrap().unwrap();
    assert_eq!(executor.raise_readiness(&problems, false).await.unwrap(), Some(id));
    let incident = store.incident(id).await.unwrap().unwrap();
    assert_eq!(incident.severity, firebreak_primitives::Severity::P1);
    assert!(incident.title.contains("NOT READY"), "{}", incident.title);
    let kinds: Vec<String> =
        store.timeline(id).await.unwrap().into_iter().map(|e| e.kind().to_owned()).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "readiness_problem").count(), 1, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| *k == "page_unreachable").count(), 1, "{kinds:?}");
    // nothing to run: a round leaves it as it is
    assert!(!executor.drive(id).await.unwrap());
    assert_eq!(store.timeline(id).await.unwrap().len(), kinds.len());

    // the same plan with the keys loaded is ready
    let ready = w
        .load_plan(&w.plan_text(
            r#"[{ signer = "guardian" }, { safe = "emergency" }]"#,
            &["owner-a", "owner-b"],
        ))
        .unwrap();
    let executor = crate::executor(&w, &Arc::new(ready), &store).await;
    assert!(executor.containment_problems().is_empty());
}
