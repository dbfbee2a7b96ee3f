//! A property-based run of schemathesis against the OpenAPI document, on a
//! real socket, authenticated as a commander who may do everything: no
//! request it generates may get a 5xx. schemathesis comes from PyPI
//! (`tools/requirements.txt`, installed by `scripts/test.sh`).

use std::{path::PathBuf, process::Command};

use firebreak_store::WarRoomStore as _;

use crate::harness::room;

fn schemathesis() -> PathBuf {
    if let Some(p) = std::env::var_os("SCHEMATHESIS") {
        return PathBuf::from(p);
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let p = root.join("target/tools-venv/bin/schemathesis");
    assert!(
        p.exists(),
        "schemathesis is not installed: run ./scripts/test.sh, or `python3 -m venv target/tools-venv && target/tools-venv/bin/pip install -r tools/requirements.txt`"
    );
    p
}

#[tokio::test(flavor = "multi_thread")]
#[allow(clippy::disallowed_methods)] // the server task lives as long as the test
async fn schemathesis_finds_no_server_error() {
    let r = room().await;
    // a draft by someone else, so that alice may approve it (four eyes)
    let _ = r
        .store
        .draft_announcement(firebreak_store::NewAnnouncement {
            incident: Some(firebreak_primitives::IncidentId(1)),
            status: "investigating".into(),
            message: "We are looking into it.".into(),
            components: vec!["vault".into()],
            author: firebreak_primitives::Actor::Member("dan".into()),
        })
        .await
        .unwrap();
    let token = r.tokens["alice"].clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = r.app.clone().into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let bin = schemathesis();
    // its crash cache goes to a scratch directory, not the repository
    let scratch = tempfile::tempdir().unwrap();
    let cwd = scratch.path().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(bin)
            .current_dir(cwd)
            .args(["run", &format!("http://{addr}/api/v1/openapi.json")])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .args(["--checks", "not_a_server_error"])
            // one worker: with two, hypothesis parses lambdas' source with
            // `ast` on two threads at once, which CPython 3.11 can fail with
            // "AST constructor recursion depth mismatch" (a tool error, not
            // a finding; seen once in a full run)
            .args(["--max-examples", "40", "--workers", "1", "--seed", "1"])
            .env("SCHEMATHESIS_HOOKS", "")
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "schemathesis found a problem ({:?}):\n{text}", out.status);
    // every documented operation is generated for (schemathesis leaves the
    // document itself out of a run)
    let ops = firebreak_server::openapi_operations().len();
    let field = |name: &str| {
        text.lines().find_map(|l| l.trim().strip_prefix(name)).map(|v| v.trim().to_owned())
    };
    assert_eq!(field("Selected:"), Some(format!("{0}/{0}", ops - 1)), "{text}");
    assert_eq!(field("Tested:"), Some((ops - 1).to_string()), "{text}");
    assert!(!text.contains("failed"), "{text}");
    println!("{text}");
}
