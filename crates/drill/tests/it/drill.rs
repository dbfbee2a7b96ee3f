//! Drills on a fork of a live (anvil) chain: the example scenario passes with
//! the pause in the next block through an impersonated guardian whose key the
//! drill never sees; a revoked role fails the drill with the reason.

use std::sync::Arc;

use firebreak_drill::{exercise::run_drill, scenario::Scenario};
use firebreak_test_utils::{Pauser, World, repo_root};

const SCENARIO: &str = r#"
name = "oracle manipulation"
[funds]
token = "usdc"
holder = "vault"
symbol = "USDC"
decimals = 6
[[steps]]
label = "inflate the price"
from = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"
to = "vault"
call = "setPrice(uint256)"
args = ["1000000000000000000000000000000"]
exploit = true
[[acks]]
member = "alice"
after = "500ms"
"#;

/// The fixture plan with the guardian's key in an unset variable: only its
/// address is known, as for a production plan drilled without its keys.
fn keyless_plan(w: &World) -> (String, Arc<firebreak_plan::Plan>) {
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    let old = "[signers.guardian]\nanvil_account = 1";
    assert!(text.contains(old));
    text = text.replace(
        old,
        &format!(
            "[signers.guardian]\nenv = \"FIREBREAK_DRILL_TEST_NO_SUCH_KEY\"\naddress = \"{}\"",
            w.chain.dev_address(1)
        ),
    );
    text.push_str(
        "\n[team.alice]\nname = \"Alice\"\nroles = [\"commander\"]\ntimezone = \"UTC\"\n",
    );
    let checked =
        firebreak_detect::check_source("drill.toml", &text, &repo_root(), &Default::default());
    assert_eq!(checked.report.errors(), 0, "{}", checked.report.render());
    (text, Arc::new(checked.plan.unwrap()))
}

fn scenario(dir: &std::path::Path, text: &str, plan: &firebreak_plan::Plan) -> Scenario {
    let path = dir.join("scenario.toml");
    std::fs::write(&path, text).unwrap();
    Scenario::load(&path, plan).unwrap()
}

#[tokio::test]
async fn anvil_drill_on_a_fork_pauses_in_the_next_block_with_an_impersonated_guardian() {
    let w = World::new(Pauser::Guardian).await.unwrap();
    let (_, plan) = keyless_plan(&w);
    let dir = tempfile::tempdir().unwrap();
    let s = scenario(dir.path(), SCENARIO, &plan);
    let mut lines = Vec::new();
    let report =
        run_drill(plan, &s, &dir.path().join("out"), &mut |l: &str| lines.push(l.to_owned()))
            .await
            .unwrap();
    assert!(report.passed, "{report:#?}\n{}", lines.join("\n"));
    assert_eq!(report.pause_block, Some(report.exploit_block + 1));
    assert_eq!(report.detection_block, Some(report.exploit_block));
    let impact = report.impact.clone().unwrap();
    assert_eq!((impact.at_risk, impact.lost, impact.saved), (1_000_000.0, 0.0, 1_000_000.0));
    assert!(report.time_to_acknowledge_ms.is_some(), "the scripted acknowledgement is measured");
    assert!(lines.iter().any(|l| l.starts_with("[4/5]")), "{lines:?}");
    let md = std::fs::read_to_string(&report.report_md).unwrap();
    assert!(md.starts_with("# Drill: oracle manipulation\n\n**PASSED**"), "{md}");
    assert!(std::fs::read_to_string(&report.report_html).unwrap().contains("<svg"));
    // the real chain was not touched: only the fork was paused
    assert!(!w.paused().await.unwrap());
}

#[tokio::test]
async fn anvil_drill_with_the_guardian_role_revoked_fails_with_the_reason() {
    let w = World::new(Pauser::Guardian).await.unwrap();
    let (_, plan) = keyless_plan(&w);
    let dir = tempfile::tempdir().unwrap();
    let revoke = format!(
        r#"
[[setup]]
label = "the admin revokes the guardian's PAUSER_ROLE"
from = "{admin}"
to = "vault"
call = "revokeRole(bytes32,address)"
args = ["0x65d7a28e3265b37a6474929f336521b332c1681b933f6cb9f3376673440d862a", "{guardian}"]
"#,
        admin = w.chain.dev_address(0),
        guardian = w.chain.dev_address(1)
    );
    let s = scenario(dir.path(), &format!("{SCENARIO}{revoke}"), &plan);
    let report = run_drill(plan, &s, &dir.path().join("out"), &mut |_: &str| {}).await.unwrap();
    assert!(!report.passed);
    let reason = report.reason.clone().unwrap();
    assert!(reason.contains("AccessControlUnauthorizedAccount"), "{reason}");
    assert!(reason.contains("step `pause-1` failed"), "{reason}");
    assert_eq!(report.pause_block, None);
    let md = std::fs::read_to_string(&report.report_md).unwrap();
    assert!(md.contains("**FAILED — step `pause-1` failed"), "{md}");
}

#[test]
fn scenario_mistakes_are_named() {
    let plan_text =
        std::fs::read_to_string(repo_root().join("examples/plans/acme-lending.toml")).unwrap();
    let plan = firebreak_detect::check_source(
        "acme.toml",
        &plan_text,
        &repo_root().join("examples/plans"),
        &Default::default(),
    )
    .plan
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    for (text, want) in [
        ("name = \"x\"\nsteps = []", "mark exactly one of [[steps]] with `exploit = true`"),
        ("name = \"x\"\nbogus = 1\nsteps = []", "unknown field `bogus`"),
        (
            "name = \"x\"\n[[steps]]\nlabel = \"a\"\nfrom = \"0x14dC79964da2C08b23698B3D3cc7Ca32193d9955\"\nto = \"nowhere\"\nexploit = true\n",
            "steps[0] (a): `nowhere` is neither a contract of the plan nor an address",
        ),
        (
            "name = \"x\"\n[[steps]]\nlabel = \"a\"\nfrom = \"0x14dC79964da2C08b23698B3D3cc7Ca32193d9955\"\nto = \"0x14dC79964da2C08b23698B3D3cc7Ca32193d9955\"\ncall = \"f(uint256)\"\nargs = [\"x\"]\nexploit = true\n",
            "argument `x` is not a uint256",
        ),
        (
            "name = \"x\"\n[[steps]]\nlabel = \"a\"\nfrom = \"me\"\nto = \"0x14dC79964da2C08b23698B3D3cc7Ca32193d9955\"\nexploit = true\n",
            "from `me` is not an address",
        ),
        (
            "name = \"x\"\n[[acks]]\nmember = \"zed\"\nafter = \"1s\"\n[[steps]]\nlabel = \"a\"\nfrom = \"0x14dC79964da2C08b23698B3D3cc7Ca32193d9955\"\nto = \"0x14dC79964da2C08b23698B3D3cc7Ca32193d9955\"\nexploit = true\n",
            "acks[0] names `zed`",
        ),
    ] {
        std::fs::write(&path, text).unwrap();
        let err = Scenario::load(&path, &plan).unwrap_err().to_string();
        assert!(err.contains(want), "{text}\n→ {err}");
        assert!(err.contains("s.toml"), "the error names the file: {err}");
    }
}

/// A stolen admin key grants itself a role, then uses it; the plan's
/// `tx from admins` monitor fires and `revoke_roles` strips the key's roles
/// through the Safe (which also holds the admin role).
const STOLEN_ADMIN_KEY: &str = r#"
name = "stolen admin key"
until_step = "revoke"
target_blocks = 3
[[setup]]
label = "the Safe is a second admin"
from = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
to = "vault"
call = "grantRole(bytes32,address)"
args = ["0x0000000000000000000000000000000000000000000000000000000000000000", "SAFE"]
[[steps]]
label = "the stolen admin key grants itself PAUSER_ROLE"
from = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
to = "vault"
call = "grantRole(bytes32,address)"
args = ["0x65d7a28e3265b37a6474929f336521b332c1681b933f6cb9f3376673440d862a", "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"]
exploit = true
"#;

#[tokio::test]
async fn anvil_drill_of_a_stolen_admin_key_reports_the_time_to_roles_revoked() {
    let w = World::new(Pauser::Guardian).await.unwrap();
    let admin = w.chain.dev_address(0);
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &["owner-b", "owner-c"]);
    text.push_str(&format!(
        r#"
[signers.owner-c]
anvil_account = 5
[lists]
admins = ["{admin}"]
[monitors.admin-key-used]
severity = "P1"
chain = "local"
rule = "tx from admins where !tx.firebreak"
playbook = "stolen-key"
[playbooks.stolen-key]
steps = [{{ id = "revoke", kind = "revoke_roles", contracts = ["vault"], via = [{{ safe = "emergency" }}] }}]
"#
    ));
    let checked =
        firebreak_detect::check_source("drill.toml", &text, &repo_root(), &Default::default());
    assert_eq!(checked.report.errors(), 0, "{}", checked.report.render());
    let plan = Arc::new(checked.plan.unwrap());
    let dir = tempfile::tempdir().unwrap();
    let s = scenario(dir.path(), &STOLEN_ADMIN_KEY.replace("SAFE", &w.safe.to_string()), &plan);
    let mut lines = Vec::new();
    let report =
        run_drill(plan, &s, &dir.path().join("out"), &mut |l: &str| lines.push(l.to_owned()))
            .await
            .unwrap();
    assert!(report.passed, "{report:#?}\n{}", lines.join("\n"));
    assert_eq!(report.contained_by, "step `revoke`");
    assert_eq!(report.detection_block, Some(report.exploit_block), "seen in its own block");
    let revoked = report.pause_block.unwrap();
    assert!(revoked > report.exploit_block, "{report:#?}");
    let ms = report.exploit_to_pause_ms.expect("the time to roles revoked is measured");
    let md = std::fs::read_to_string(&report.report_md).unwrap();
    assert!(
        md.contains(&format!("| first malicious transaction → step `revoke` done | {ms} ms |")),
        "{md}"
    );
    // both roles of the stolen key were revoked, in one Safe transaction
    let store = firebreak_store::SqliteStore::open(&dir.path().join("out/drill.db")).await.unwrap();
    use firebreak_store::prelude::*;
    let incident = store.incidents(&Default::default()).await.unwrap().remove(0);
    let actions = store.actions(incident.id).await.unwrap();
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0].key.contracts.len(), 2, "{}", actions[0].key);
    assert_eq!(actions[0].status, firebreak_store::ActionStatus::Mined);
}
