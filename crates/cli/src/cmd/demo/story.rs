//! `firebreak demo`: the whole story on a local chain, in seconds.
//!
//! Starts anvil, deploys the example protocol (a lending vault holding
//! 1,000,000 USDC with a deliberate oracle flaw, guarded by a guardian key
//! with a 2-of-3 Safe as the second pause path), writes the plan, runs the
//! daemon, then plays an attacker: inflate the collateral price (block N),
//! then try to borrow the whole vault. The daemon sees the price change in
//! block N and pauses in block N+1, ahead of the drain, which reverts.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use alloy::primitives::U256;
use eyre::WrapErr as _;
use firebreak_node::{DaemonEvent, DaemonOptions, WatchEvent, WatchOptions, run_daemon};
use firebreak_store::{ActionStatus, IncidentFilter, IncidentStore, SqliteStore};
use serde::Serialize;

use firebreak_devnet::{IERC20, LendingVault, Pauser, World, fixture_monitor};

use firebreak_report::{Impact, PostMortem};
use firebreak_store::prelude::*;

/// What the demo measured.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DemoReport {
    /// The local chain's RPC URL.
    pub rpc: String,
    /// Chain id.
    pub chain_id: u64,
    /// The vault.
    pub vault: String,
    /// Block of an honest price update before the attack (+2 %, inside the
    /// monitor's bound).
    pub honest_update_block: u64,
    /// Incidents opened by anything before the attack (0: the honest update
    /// raised nothing).
    pub alerts_before_attack: usize,
    /// Block of the price manipulation.
    pub exploit_block: u64,
    /// Block of the alert.
    pub detection_block: u64,
    /// Block in which the pause was mined.
    pub pause_block: u64,
    /// The pause transaction.
    pub pause_tx: String,
    /// Whether the attacker's drain reverted.
    pub drain_reverted: bool,
    /// Block of the drain attempt.
    pub drain_block: u64,
    /// Incident opened → pause broadcast (ms, from the timeline).
    pub incident_to_pause_sent_ms: u64,
    /// Exploit receipt → pause mined (ms; bounded below by the block time).
    pub exploit_to_pause_mined_ms: u64,
    /// Incident id.
    pub incident: u64,
    /// USDC held by the vault before the attack.
    pub funds_at_risk: f64,
    /// USDC taken.
    pub funds_lost: f64,
    /// USDC still in the vault.
    pub funds_saved: f64,
    /// Where the plan, store and reports are.
    pub dir: String,
    /// The plan file.
    pub plan: String,
    /// The store.
    pub db: String,
    /// Post-mortem (Markdown).
    pub postmortem_md: String,
    /// Post-mortem (HTML).
    pub postmortem_html: String,
    /// The incident's page in the war room (loopback).
    pub dashboard: String,
    /// The public status page.
    pub status_page: String,
    /// Demo API tokens by member (sign in to the war room with one).
    pub tokens: std::collections::BTreeMap<String, String>,
}

const USDC: f64 = 1_000_000.0;

/// Runs the demo with its files in `dir`; calls `progress` with each stage;
/// then hands the report to `linger` and waits for the future it returns
/// (e.g. Ctrl-C) with the chain and the daemon still running.
///
/// # Errors
/// When anvil is missing, a deployment fails, or the pause never lands.
pub(crate) async fn run_demo<L>(
    dir: &Path,
    dashboard_addr: std::net::SocketAddr,
    progress: &mut (dyn FnMut(&str) + Send),
    linger: impl FnOnce(&DemoReport) -> L,
) -> eyre::Result<DemoReport>
where
    L: std::future::Future<Output = ()> + Send,
{
    std::fs::create_dir_all(dir)
        .wrap_err_with(|| format!("cannot create the demo directory `{}`", dir.display()))?;
    progress("starting anvil and deploying the example protocol (vault, USDC, 2-of-3 Safe)");
    let w = World::new(Pauser::Guardian).await.wrap_err("cannot start the local chain")?;
    // an upgradeable treasury (UUPS behind an ERC-1967 proxy), for the
    // stolen-admin-key drill: UPGRADER_ROLE upgrades, the deployer is admin
    let treasury = firebreak_devnet::deploy_treasury(&w.chain, w.chain.dev_address(0))
        .await
        .wrap_err("cannot deploy the treasury")?;
    let mut text = w
        .plan_text(r#"[{ signer = "guardian" }, { safe = "emergency" }]"#, &["owner-a", "owner-b"]);
    text = text.replace(r#"name = "Fixture""#, r#"name = "Acme Lending (demo)""#);
    // a rule a team would ship: an honest price update moves the price a
    // little; a manipulation moves it beyond any plausible bound
    text = super::bounded_price_rule(&text, "")?;
    text.push_str(&fixture_monitor(
        "big-borrow",
        "P2",
        "event vault.Borrow where amount > 100_000e6",
        "description = \"a single borrow above 100,000 USDC\"",
    ));
    text.push_str(
        "\n[team.alice]\nname = \"Alice (commander)\"\nroles = [\"commander\", \"signer\"]\ntimezone = \"UTC\"\n\n[team.bob]\nname = \"Bob (operator)\"\nroles = [\"operator\", \"signer\"]\ntimezone = \"UTC\"\n\n[team.dan]\nname = \"Dan (comms)\"\nroles = [\"comms\"]\ntimezone = \"UTC\"\n\n[status_page]\ntitle = \"Acme Lending status (demo)\"\n[[status_page.components]]\nid = \"vault\"\nname = \"Lending vault\"\n",
    );
    // after the pause, a status-page update waits for review in the war room
    let steps = r#"steps = [{ kind = "pause", contracts = ["vault"] }]"#;
    eyre::ensure!(text.contains(steps), "the fixture plan changed");
    text = text.replace(
        steps,
        r#"steps = [{ kind = "pause", contracts = ["vault"] }, { id = "tell-users", kind = "announce", status = "identified", message = "We paused the lending vault after an oracle manipulation. Funds are safe; we are investigating.", components = ["vault"] }]"#,
    );
    // a stolen operations-admin key (dev account 8, which the demo never
    // uses): whatever it sends is foreign, and its roles are revoked through
    // the Safe (examples/drills/stolen-admin-key.toml drills it)
    text.push_str(&format!(
        "\n[lists]\nadmins = [\"{}\"]\n\n[monitors.admin-key-used]\ndescription = \"the operations-admin key sent a transaction firebreak did not send\"\nseverity = \"P1\"\nchain = \"local\"\nrule = \"tx from admins where !tx.firebreak\"\nplaybook = \"stolen-key\"\n\n[playbooks.stolen-key]\nsteps = [{{ id = \"revoke\", kind = \"revoke_roles\", contracts = [\"vault\", \"treasury\"], via = [{{ safe = \"emergency\" }}] }}]\n\n[contracts.treasury]\nchain = \"local\"\naddress = \"{}\"\nabi = {{ artifact = \"{}\" }}\npausable = false\n",
        w.chain.dev_address(8),
        treasury.proxy,
        firebreak_devnet::repo_root().join("crates/devnet/fixtures/UpgradeableTreasury.json").display(),
    ));
    // a stolen Safe owner key (owner 5, not a hot signer): an on-chain
    // approval of a hash the team never approved is rejected at the Safe's
    // nonce and the owner swapped for the standby (dev account 9)
    // (examples/drills/stolen-safe-owner.toml drills it)
    let threshold = "threshold = 2\n";
    eyre::ensure!(text.contains(threshold), "the fixture plan changed");
    text = text.replacen(
        threshold,
        &format!("threshold = 2\nstandby_owners = [\"{}\"]\n", w.chain.dev_address(9)),
        1,
    );
    text.push_str(
        "\n[monitors.safe-hash-unapproved]\ndescription = \"a Safe owner approved a SafeTx hash the team did not approve\"\nseverity = \"P1\"\nchain = \"local\"\nrule = 'preset safe_transactions(emergency) where event.name == \"ApproveHash\" && !safe_tx.approved'\nplaybook = \"stolen-owner\"\n\n[playbooks.stolen-owner]\nsteps = [{ id = \"reject\", kind = \"safe_reject\", safe = \"emergency\", account = \"owner\" }, { id = \"rotate\", kind = \"rotate_signer\", safe = \"emergency\", account = \"owner\" }]\n",
    );
    let (plan_path, plan) = super::write_plan(dir, "demo-plan.toml", &text)?;
    let db = dir.join("demo.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(PathBuf::from(format!("{}{suffix}", db.display())));
    }
    let store = Arc::new(SqliteStore::open(&db).await?);
    progress(&format!("plan {} · store {}", plan_path.display(), db.display()));
    let mut tokens = std::collections::BTreeMap::new();
    for member in ["alice", "bob", "dan"] {
        let token = firebreak_server::new_token();
        firebreak_store::WarRoomStore::create_token(
            &*store,
            member,
            "demo",
            &firebreak_server::hash_token(&token),
        )
        .await?;
        tokens.insert(member.to_owned(), token);
    }

    let from = w.chain.block_number().await? + 1;
    let opts = DaemonOptions {
        watch: WatchOptions {
            start: Some(from),
            poll_interval: Duration::from_millis(100),
            ..WatchOptions::default()
        },
        tick: Duration::from_millis(100),
        listen: Some(dashboard_addr),
        ..DaemonOptions::default()
    };
    let (served_tx, mut served) = tokio::sync::watch::channel(String::new());
    let (ready_tx, mut ready) = tokio::sync::watch::channel(false);
    let (line_tx, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    let mut emit = move |e: DaemonEvent| match e {
        DaemonEvent::Watch { event: WatchEvent::Processed { .. } } => {
            let _ = ready_tx.send(true);
        }
        DaemonEvent::Watch { event: WatchEvent::Alert { alert } } => {
            let _ = line_tx.send(format!(
                "ALERT [{}] `{}` at block {}",
                alert.severity, alert.monitor, alert.block_number
            ));
        }
        DaemonEvent::IncidentOpened { incident, .. } => {
            let _ = line_tx.send(format!("incident {incident} opened"));
        }
        DaemonEvent::Step { step, status, detail, .. } => {
            let _ = line_tx.send(format!(
                "step `{step}`: {status}{}",
                detail.map(|d| format!(" — {d}")).unwrap_or_default()
            ));
        }
        DaemonEvent::Error { error } => {
            let _ = line_tx.send(format!("error: {error}"));
        }
        DaemonEvent::Serving { url } => {
            let _ = served_tx.send(url);
        }
        _ => {}
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let scenario = async {
        let _ = ready.wait_for(|r| *r).await;
        let war_room =
            served.wait_for(|u| !u.is_empty()).await.map(|u| u.clone()).unwrap_or_default();
        progress(&format!("war room {war_room} — sign in with a demo token (printed at the end)"));
        let report = async {
            let mut r = attack(&w, &*store, progress, &mut lines).await?;
            // the post-mortem, written from the record
            let impact = Impact {
                asset: "USDC".into(),
                at_risk: r.funds_at_risk,
                lost: r.funds_lost,
                saved: r.funds_saved,
            };
            let id = firebreak_primitives::IncidentId(r.incident);
            // the playbook's last step (the status update) lands in the record first
            for _ in 0..100 {
                let steps = store.steps(id).await?;
                if !steps.is_empty() && steps.iter().all(|s| s.status.is_final()) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let pm = PostMortem::load(&*store, id, Some(impact)).await?;
            let md = dir.join("postmortem.md");
            let html = dir.join("postmortem.html");
            std::fs::write(&md, pm.markdown())?;
            std::fs::write(dir.join("timeline.svg"), pm.svg())?;
            std::fs::write(&html, pm.html())?;
            r.dir = dir.display().to_string();
            r.plan = plan_path.display().to_string();
            r.db = db.display().to_string();
            r.postmortem_md = md.display().to_string();
            r.postmortem_html = html.display().to_string();
            r.dashboard = format!("{war_room}/incidents/{}", r.incident);
            r.status_page = format!("{war_room}/status");
            r.tokens = tokens.clone();
            eyre::Ok(r)
        }
        .await;
        if let Ok(r) = &report {
            progress(&format!("post-mortem written to {}", r.postmortem_html));
        }
        (report, stop_tx)
    };
    let daemon = run_daemon(plan, store.clone(), opts, &mut emit, async move {
        let _ = stop_rx.await;
    });
    tokio::pin!(daemon);
    let (report, stop) = tokio::select! {
        r = scenario => r,
        r = &mut daemon => {
            r.wrap_err("the daemon stopped")?;
            eyre::bail!("the daemon stopped before the demo ended");
        }
    };
    let report = report?;
    let wait = linger(&report);
    let lingering = async {
        wait.await;
        let _ = stop.send(());
    };
    let (done, ()) = tokio::join!(daemon, lingering);
    done?;
    Ok(report)
}

async fn attack(
    w: &World,
    store: &dyn IncidentStore,
    progress: &mut (dyn FnMut(&str) + Send),
    lines: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
) -> eyre::Result<DemoReport> {
    let p = w.chain.provider();
    let attacker = w.chain.dev_address(7);
    let usdc = IERC20::new(w.vault.asset, p);
    let at_risk = usdc.balanceOf(w.vault.vault).call().await?;
    progress(&format!("the vault holds {} USDC; the attacker is {attacker}", fmt_usdc(at_risk)));
    let vault = LendingVault::new(w.vault.vault, p);
    // 0: an honest update (+2 %): inside the bound, nothing fires
    let honest = vault
        .setPrice(U256::from(2_040_000_000u64))
        .from(w.chain.dev_address(0))
        .send()
        .await?
        .get_receipt()
        .await?;
    let honest_update_block = honest.block_number.unwrap_or_default();
    progress(&format!(
        "an honest price update (+2 %) in block {honest_update_block}: inside the monitor's 20 % bound, no alert"
    ));
    // 1: the flaw — anyone may set the collateral price
    let t0 = Instant::now();
    let r = vault
        .setPrice(U256::from(10u64).pow(U256::from(30u64)))
        .from(attacker)
        .send()
        .await?
        .get_receipt()
        .await?;
    let exploit_block = r.block_number.unwrap_or_default();
    progress(&format!(
        "ATTACK 1/2: price of ETH set to 10^30 USDC by the attacker, mined in block {exploit_block}"
    ));
    // 2: borrow the whole vault against 0.001 ETH
    let tip = 1_000_000_000u128;
    let drain = vault
        .borrow(at_risk)
        .from(attacker)
        .value(U256::from(1_000_000_000_000_000u64))
        .gas(300_000)
        .max_priority_fee_per_gas(tip)
        .max_fee_per_gas(2 * tip)
        .send()
        .await?;
    progress("ATTACK 2/2: borrow of the whole vault sent");
    let drain = drain.get_receipt().await?;
    let drain_block = drain.block_number.unwrap_or_default();
    while let Ok(line) = lines.try_recv() {
        progress(&line);
    }
    // the pause and its record
    let mut found = None;
    for _ in 0..200 {
        while let Ok(line) = lines.try_recv() {
            progress(&line);
        }
        if let Some(i) = store.incidents(&IncidentFilter::default()).await?.into_iter().last() {
            let actions = store.actions(i.id).await?;
            if let Some(a) = actions.into_iter().find(|a| a.status == ActionStatus::Mined) {
                found = Some((i, a));
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (incident, action) =
        found.ok_or_else(|| eyre::eyre!("the pause was not mined within 10 s"))?;
    let mined_ms = t0.elapsed().as_millis();
    while let Ok(line) = lines.try_recv() {
        progress(&line);
    }
    let timeline = store.timeline(incident.id).await?;
    let sent_at = timeline
        .iter()
        .find(|e| matches!(e.event, firebreak_primitives::Event::TxBroadcast(_)))
        .map(|e| e.at.clone())
        .unwrap_or_default();
    let opened_at = timeline.first().map(|e| e.at.clone()).unwrap_or_default();
    let since = |a: &str, b: &str| -> u64 {
        match (a.parse::<jiff::Timestamp>(), b.parse::<jiff::Timestamp>()) {
            (Ok(a), Ok(b)) => u64::try_from(b.as_millisecond() - a.as_millisecond()).unwrap_or(0),
            _ => 0,
        }
    };
    let after = usdc.balanceOf(w.vault.vault).call().await?;
    let alerts = store.incident_alerts(incident.id).await?;
    let mut alerts_before_attack = 0;
    for i in store.incidents(&firebreak_store::IncidentFilter::default()).await? {
        alerts_before_attack += store
            .incident_alerts(i.id)
            .await?
            .iter()
            .filter(|a| a.block_number < exploit_block)
            .count();
    }
    let receipt = action.receipt.clone().unwrap_or_default();
    let lost = at_risk.saturating_sub(after);
    Ok(DemoReport {
        rpc: w.chain.http_url(),
        chain_id: w.chain.chain_id(),
        vault: w.vault.vault.to_string(),
        honest_update_block,
        alerts_before_attack,
        exploit_block,
        detection_block: alerts.first().map_or(0, |a| a.block_number),
        pause_block: receipt["block_number"].as_u64().unwrap_or_default(),
        pause_tx: receipt["tx_hash"].as_str().unwrap_or_default().to_owned(),
        drain_reverted: !drain.status(),
        drain_block,
        incident_to_pause_sent_ms: since(&opened_at, &sent_at),
        exploit_to_pause_mined_ms: u64::try_from(mined_ms).unwrap_or(0),
        incident: incident.id.0,
        funds_at_risk: usdc_f64(at_risk),
        funds_lost: usdc_f64(lost),
        funds_saved: usdc_f64(after),
        dir: String::new(),
        plan: String::new(),
        db: String::new(),
        postmortem_md: String::new(),
        postmortem_html: String::new(),
        dashboard: String::new(),
        status_page: String::new(),
        tokens: std::collections::BTreeMap::new(),
    })
}

fn usdc_f64(v: U256) -> f64 {
    f64::from(u32::try_from(v / U256::from(1_000_000u64)).unwrap_or(u32::MAX))
        + f64::from(u32::try_from(v % U256::from(1_000_000u64)).unwrap_or(0)) / USDC
}

fn fmt_usdc(v: U256) -> String {
    firebreak_report::money(usdc_f64(v))
}
