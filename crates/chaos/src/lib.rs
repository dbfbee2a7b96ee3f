//! The chaos suite: three `firebreak run` replicas on one PostgreSQL and
//! one anvil mining a block every second. In each trial an exploit hits and
//! a random replica is killed with SIGKILL at a random moment of the
//! response (0–2 s after the exploit is sent); the killed replica is started
//! again before the next trial. Each trial's outcome comes from the chain
//! and the record alone: the pauses on chain, the incident's timeline
//! (duplicates, missing entries, the hash chain), every page the webhook
//! sink received (once per idempotency key), and, when the killed replica
//! was the one acting, how many blocks passed before another took its
//! leases over. Then PostgreSQL is restarted in the middle of an incident,
//! and finally every replica is killed to see the outbound heartbeat stop.
//!
//! It measures; it does not time-assert. The figures in the README come
//! from `firebreak-chaos --trials 50`.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use alloy::providers::Provider as _;
use eyre::{WrapErr as _, bail};
use firebreak_primitives::{Actor, IncidentId, IncidentStatus};
use firebreak_store::{IncidentFilter, PgStore, prelude::*, verify_incident};
use firebreak_test_utils::{Chain, LendingVault, Pauser, World, pg::PgCluster, sink};
use rand::{Rng as _, SeedableRng as _};
use serde::Serialize;
use tokio::time::Instant;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The `firebreak` binary the replicas run.
    pub firebreak: PathBuf,
    /// Trials with a replica killed.
    pub trials: u32,
    /// Seed of the random victims and moments (printed, so a run repeats).
    pub seed: u64,
    /// The replicas' lease time.
    pub lease: Duration,
    /// Progress lines on stderr.
    pub progress: bool,
}

/// One trial's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Trial {
    /// 1-based.
    pub trial: u32,
    /// Which replica was killed (0–2), and whether it was the one acting.
    pub victim: usize,
    /// Whether the victim held the leases when it was killed.
    pub victim_acting: bool,
    /// Milliseconds after sending the exploit that the victim was killed.
    pub kill_after_ms: u64,
    /// The exploit's block.
    pub exploit_block: u64,
    /// Blocks of the pause transactions of this trial (one expected).
    pub pause_blocks: Vec<u64>,
    /// Whether the incident reached `contained`.
    pub contained: bool,
    /// Timeline entries that should appear once and appeared more often.
    pub duplicates: Vec<String>,
    /// Timeline entries that should appear and did not.
    pub missing: Vec<String>,
    /// Whether the incident's hash chain and head verify.
    pub chain_ok: bool,
    /// The incident's messages and how many times the sink received each.
    pub pages: BTreeMap<String, u32>,
    /// Blocks from the kill to another replica holding the leases (when
    /// the victim was acting).
    pub takeover_blocks: Option<u64>,
    /// Blocks from the victim's lease running out to the takeover.
    pub after_expiry_blocks: Option<u64>,
}

impl Trial {
    /// Whether everything held.
    pub fn ok(&self) -> bool {
        self.pause_blocks.len() == 1
            && self.contained
            && self.duplicates.is_empty()
            && self.missing.is_empty()
            && self.chain_ok
            && self.pages.values().all(|n| *n == 1)
    }
}

/// PostgreSQL restarted in the middle of an incident.
#[derive(Debug, Clone, Serialize)]
pub struct Restart {
    /// The trial's outcome (the victim field unused).
    pub trial: Trial,
    /// Replicas still running afterwards.
    pub alive: usize,
}

/// Every replica killed: the outbound heartbeat.
#[derive(Debug, Clone, Serialize)]
pub struct Silence {
    /// Pings received in the interval before the kill (it was beating).
    pub pings_before: usize,
    /// Pings received more than one interval after the kill (must be 0).
    pub late_pings: usize,
}

/// Everything measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// The lease time, ms.
    pub lease_ms: u64,
    /// Each trial.
    pub trials: Vec<Trial>,
    /// PostgreSQL restarted mid-incident.
    pub restart: Option<Restart>,
    /// Every replica killed.
    pub silence: Option<Silence>,
}

impl Report {
    /// Whether every trial and scenario held.
    pub fn ok(&self) -> bool {
        self.trials.iter().all(Trial::ok)
            && self.restart.as_ref().is_none_or(|r| r.trial.ok() && r.alive == REPLICAS)
            && self.silence.as_ref().is_none_or(|s| s.late_pings == 0 && s.pings_before > 0)
    }

    /// The summary table (Markdown).
    pub fn markdown(&self) -> String {
        let t = &self.trials;
        let pauses: usize = t.iter().map(|t| t.pause_blocks.len()).sum();
        let dup_pauses: usize = t.iter().map(|t| t.pause_blocks.len().saturating_sub(1)).sum();
        let dups: usize = t.iter().map(|t| t.duplicates.len()).sum();
        let lost: usize = t.iter().map(|t| t.missing.len()).sum();
        let broken = t.iter().filter(|t| !t.chain_ok).count();
        let pages: u32 = t.iter().flat_map(|t| t.pages.values()).copied().sum();
        let distinct: usize = t.iter().map(|t| t.pages.len()).sum();
        let dup_pages: u32 =
            t.iter().flat_map(|t| t.pages.values()).map(|n| n.saturating_sub(1)).sum();
        let lost_pages = t.iter().flat_map(|t| t.pages.values()).filter(|n| **n == 0).count();
        let acting = t.iter().filter(|t| t.victim_acting).count();
        let mut takeover: Vec<u64> = t.iter().filter_map(|t| t.takeover_blocks).collect();
        let mut after: Vec<u64> = t.iter().filter_map(|t| t.after_expiry_blocks).collect();
        let in_next =
            t.iter().filter(|t| t.pause_blocks.first() == Some(&(t.exploit_block + 1))).count();
        let mut out = String::new();
        out.push_str("| measure | result |\n|---|---|\n");
        let mut row = |k: &str, v: String| out.push_str(&format!("| {k} | {v} |\n"));
        row("trials (a random replica SIGKILLed 0–2 s into the response)", t.len().to_string());
        row("the acting replica was the one killed", acting.to_string());
        row("pauses on chain", format!("{pauses} ({in_next} in the block after the exploit)"));
        row("duplicate pauses", dup_pauses.to_string());
        row("duplicate timeline entries", dups.to_string());
        row("lost timeline entries", lost.to_string());
        row("broken hash chains", broken.to_string());
        row(
            "pages",
            format!(
                "{distinct} messages, {pages} deliveries: {dup_pages} duplicate, {lost_pages} lost"
            ),
        );
        row(
            "takeover, blocks from the kill (p50 / p99)",
            format!("{} / {}", pct(&mut takeover, 50), pct(&mut takeover, 99)),
        );
        row(
            "takeover, blocks after the lease ran out (p50 / p99)",
            format!("{} / {}", pct(&mut after, 50), pct(&mut after, 99)),
        );
        if let Some(r) = &self.restart {
            row(
                "PostgreSQL restarted mid-incident",
                format!(
                    "{} pause(s), contained {}, chain {}, {} of {REPLICAS} replicas running after",
                    r.trial.pause_blocks.len(),
                    r.trial.contained,
                    if r.trial.chain_ok { "verifies" } else { "BROKEN" },
                    r.alive
                ),
            );
        }
        if let Some(s) = &self.silence {
            row(
                "every replica killed: heartbeat pings later than one interval",
                format!("{} ({} in the second before)", s.late_pings, s.pings_before),
            );
        }
        out
    }
}

/// The `q`th percentile (nearest rank) of `v`, or `–`.
fn pct(v: &mut [u64], q: usize) -> String {
    if v.is_empty() {
        return "–".into();
    }
    v.sort_unstable();
    let rank = (q * v.len()).div_ceil(100).clamp(1, v.len());
    v[rank - 1].to_string()
}

const REPLICAS: usize = 3;

/// A `firebreak run` process; killed (SIGKILL) when dropped.
struct Replica {
    child: Child,
}

impl Replica {
    fn spawn(
        opts: &Options,
        plan: &Path,
        db: &str,
        work: &Path,
        index: usize,
    ) -> eyre::Result<Self> {
        let log = |what: &str| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(work.join(format!("replica-{index}.{what}")))
        };
        let child = Command::new(&opts.firebreak)
            .arg("run")
            .arg(plan)
            .args(["--db", db, "--no-listen", "--poll", "250ms", "--log-format", "json"])
            .arg("--lease-time")
            .arg(format!("{}ms", opts.lease.as_millis()))
            .env("FIREBREAK_DATA_DIR", work)
            .stdin(Stdio::null())
            .stdout(log("out")?)
            .stderr(log("err")?)
            .spawn()
            .wrap_err_with(|| format!("cannot start {}", opts.firebreak.display()))?;
        Ok(Self { child })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, and reaps it.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What every trial shares.
struct Rig {
    world: World,
    store: PgStore,
    pages: sink::Sink,
    replicas: Vec<Replica>,
    plan: PathBuf,
    db: String,
    work: PathBuf,
    last_incident: u64,
}

/// Runs the suite.
///
/// # Errors
/// When the rig cannot be set up (anvil, PostgreSQL, the binary); a trial
/// that goes wrong is reported in its row, not as an error.
pub async fn run(opts: &Options) -> eyre::Result<Report> {
    let dir = tempfile::Builder::new().prefix("firebreak-chaos").tempdir()?;
    let work = dir.path().to_path_buf();
    let say = |m: String| {
        if opts.progress {
            #[allow(clippy::print_stderr)] // progress of a command-line tool
            {
                eprintln!("{m}");
            }
        }
    };
    let pg = PgCluster::start();
    let chain = Chain::spawn_with(|a| a.block_time(1))?;
    let world = World::with_chain(chain, Pauser::Guardian).await?;
    let pages = sink::start().await;
    let plan = work.join("plan.toml");
    std::fs::write(&plan, plan_text(&world, &pages.url, &work)?)?;
    let store = PgStore::connect(&pg.url).await?;
    let mut rig = Rig {
        world,
        store,
        pages,
        replicas: Vec::new(),
        plan,
        db: pg.url.clone(),
        work,
        last_incident: 0,
    };
    for i in 0..REPLICAS {
        rig.replicas.push(Replica::spawn(opts, &rig.plan, &rig.db, &rig.work, i)?);
    }
    rig.wait_acting(Duration::from_secs(60)).await?;
    say(format!("chaos: {REPLICAS} replicas up, lease time {:?}, seed {}", opts.lease, opts.seed));
    let mut rng = rand::rngs::StdRng::seed_from_u64(opts.seed);
    let mut trials = Vec::new();
    for n in 1..=opts.trials {
        let victim = rng.gen_range(0..REPLICAS);
        let kill_after = Duration::from_millis(rng.gen_range(0..2_000));
        let trial = rig.trial(opts, n, Some((victim, kill_after))).await?;
        say(format!(
            "trial {n}/{}: killed replica {victim}{} after {} ms: {}",
            opts.trials,
            if trial.victim_acting { " (acting)" } else { "" },
            kill_after.as_millis(),
            if trial.ok() { "ok".to_owned() } else { format!("FAILED {trial:?}") }
        ));
        trials.push(trial);
    }
    let restart = rig.restart_mid_incident(opts, &pg).await?;
    say(format!(
        "PostgreSQL restarted mid-incident: {}",
        if restart.trial.ok() { "ok" } else { "FAILED" }
    ));
    let silence = rig.silence().await?;
    say(format!("every replica killed: {} late pings", silence.late_pings));
    Ok(Report {
        seed: opts.seed,
        lease_ms: u64::try_from(opts.lease.as_millis()).unwrap_or(u64::MAX),
        trials,
        restart: Some(restart),
        silence: Some(silence),
    })
}

/// The fixture plan: the guardian pauses, then the on-call is paged on a
/// webhook; the outbound heartbeat pings every second.
fn plan_text(w: &World, sink: &str, work: &Path) -> eyre::Result<String> {
    let secret = work.join("webhook.secret");
    std::fs::write(&secret, "chaos-webhook-secret")?;
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    let old = r#"steps = [{ kind = "pause", contracts = ["vault"] }]"#;
    if !text.contains(old) {
        bail!("the fixture plan changed: no `{old}`");
    }
    text = text.replace(
        old,
        r#"steps = [{ kind = "pause", contracts = ["vault"] }, { kind = "notify", channels = ["pager"], message = "{{ protocol }}: {{ monitor }} at block {{ block }}" }]"#,
    );
    text.push_str(&format!(
        "\n[channels.pager]\nkind = \"webhook\"\nurl = \"{sink}/page\"\nsigning_secret = {{ file = \"{}\" }}\n\n[heartbeat]\nurl = \"{sink}/ping\"\ninterval = \"1s\"\n",
        secret.display()
    ));
    Ok(text)
}

impl Rig {
    async fn head(&self) -> u64 {
        self.world.chain.provider().get_block_number().await.unwrap_or_default()
    }

    /// The executor lease: holder and expiry, with the database's clock.
    async fn executor_lease(&self) -> Option<(String, u64, u64)> {
        let t = self.store.leases().await.ok()?;
        t.leases
            .into_iter()
            .find(|l| l.name == "executor")
            .map(|l| (l.holder, l.expires_ms, t.now_ms))
    }

    async fn wait_acting(&self, within: Duration) -> eyre::Result<String> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some((holder, expires, now)) = self.executor_lease().await
                && expires >= now
            {
                return Ok(holder);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("no replica took the leases within {within:?} (logs in {})", self.work.display())
    }

    /// One exploit, a kill at a random moment, and the checks.
    async fn trial(
        &mut self,
        opts: &Options,
        n: u32,
        kill: Option<(usize, Duration)>,
    ) -> eyre::Result<Trial> {
        let from = self.head().await + 1;
        let holder = self.wait_acting(Duration::from_secs(30)).await?;
        let (victim, kill_after) = kill.unwrap_or((usize::MAX, Duration::ZERO));
        let victim_acting =
            self.replicas.get(victim).is_some_and(|r| holder.contains(&format!(":{}:", r.pid())));
        let world = &self.world;
        let replicas = &mut self.replicas;
        let killing = async {
            tokio::time::sleep(kill_after).await;
            if let Some(r) = replicas.get_mut(victim) {
                r.kill();
            }
            world.chain.provider().get_block_number().await.unwrap_or_default()
        };
        let (exploit, kill_block) = tokio::join!(world.exploit(), killing);
        let exploit_block = exploit?;
        let (takeover_blocks, after_expiry_blocks) =
            if victim_acting { self.takeover(&holder, kill_block).await } else { (None, None) };
        let mut trial = self.outcome(n, exploit_block, from).await?;
        trial.victim = victim;
        trial.victim_acting = victim_acting;
        trial.kill_after_ms = u64::try_from(kill_after.as_millis()).unwrap_or(u64::MAX);
        trial.takeover_blocks = takeover_blocks;
        trial.after_expiry_blocks = after_expiry_blocks;
        if victim < REPLICAS {
            self.replicas[victim] = Replica::spawn(opts, &self.plan, &self.db, &self.work, victim)?;
        }
        self.reset().await?;
        Ok(trial)
    }

    /// Blocks until another replica holds the executor lease: from the kill,
    /// and from the moment the old holder's lease ran out.
    async fn takeover(&self, old: &str, kill_block: u64) -> (Option<u64>, Option<u64>) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut expiry_block = None;
        while Instant::now() < deadline {
            let head = self.head().await;
            if let Some((holder, expires, now)) = self.executor_lease().await {
                if holder != old && expires >= now {
                    let after = expiry_block.map(|b: u64| head.saturating_sub(b));
                    return (Some(head.saturating_sub(kill_block)), after.or(Some(0)));
                }
                if holder == old && now > expires && expiry_block.is_none() {
                    expiry_block = Some(head);
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        (None, None)
    }

    /// The newest incident after the last trial's, once contained, checked.
    async fn outcome(&mut self, n: u32, exploit_block: u64, from: u64) -> eyre::Result<Trial> {
        let mut trial = Trial {
            trial: n,
            victim: usize::MAX,
            victim_acting: false,
            kill_after_ms: 0,
            exploit_block,
            pause_blocks: Vec::new(),
            contained: false,
            duplicates: Vec::new(),
            missing: Vec::new(),
            chain_ok: false,
            pages: BTreeMap::new(),
            takeover_blocks: None,
            after_expiry_blocks: None,
        };
        let deadline = Instant::now() + Duration::from_secs(90);
        let mut id = None;
        while Instant::now() < deadline {
            if id.is_none() {
                id = self.newest_incident().await;
            }
            if let Some(i) = id
                && let Ok(Some(inc)) = self.store.incident(i).await
                && inc.status >= IncidentStatus::Contained
                && self.all_delivered(i).await
            {
                trial.contained = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // a second pause would be mined within a block or two of the first
        tokio::time::sleep(Duration::from_secs(2)).await;
        trial.pause_blocks = self
            .world
            .pause_transactions(from)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|(b, _)| b)
            .collect();
        let Some(id) = id else {
            trial.missing.push("incident_opened".into());
            return Ok(trial);
        };
        self.last_incident = id.0;
        let timeline = self.store.timeline(id).await?;
        if let Some(inc) = self.store.incident(id).await? {
            trial.chain_ok = verify_incident(&inc, &timeline).is_ok();
        }
        let mut count: BTreeMap<String, usize> = BTreeMap::new();
        for e in &timeline {
            let key = match e.kind() {
                // one per action, one per message
                "tx_mined" | "action_planned" => format!("{}:{}", e.kind(), e.body["action"]),
                "message_delivered" => format!("{}:{}", e.kind(), e.body["key"]),
                "status" => format!("status:{}", e.body["to"]),
                k => k.to_owned(),
            };
            *count.entry(key).or_default() += 1;
        }
        for (k, c) in &count {
            let once = k == "incident_opened"
                || k.starts_with("tx_mined:")
                || k.starts_with("action_planned:")
                || k.starts_with("message_delivered:")
                || k.starts_with("status:");
            if once && *c > 1 {
                trial.duplicates.push(format!("{k} ×{c}"));
            }
        }
        for want in [
            "incident_opened",
            "tx_mined:",
            "action_planned:",
            "message_delivered:",
            "status:\"contained\"",
        ] {
            if !count.keys().any(|k| k.starts_with(want)) {
                trial.missing.push(want.trim_end_matches(':').to_owned());
            }
        }
        let seen = self.pages.seen();
        for m in self.store.outbox(Some(id)).await? {
            let got = seen
                .iter()
                .filter(|s| s.path == "/page" && s.header("idempotency-key") == m.key)
                .count();
            trial.pages.insert(m.key.clone(), u32::try_from(got).unwrap_or(u32::MAX));
        }
        Ok(trial)
    }

    async fn newest_incident(&self) -> Option<IncidentId> {
        let list = self.store.incidents(&IncidentFilter::default()).await.ok()?;
        list.iter()
            .filter(|i| i.id.0 > self.last_incident && i.playbook == "contain")
            .map(|i| i.id)
            .max()
    }

    async fn all_delivered(&self, id: IncidentId) -> bool {
        self.store
            .outbox(Some(id))
            .await
            .is_ok_and(|m| !m.is_empty() && m.iter().all(|m| m.status == "delivered"))
    }

    /// The incident resolved, then the vault unpaused by its admin: ready
    /// for the next exploit.
    async fn reset(&mut self) -> eyre::Result<()> {
        if self.last_incident > 0 {
            let id = IncidentId(self.last_incident);
            let actor = Actor::Member("chaos".into());
            self.store
                .transition(id, IncidentStatus::Resolved, actor, Some("chaos trial".into()))
                .await?;
        }
        if self.world.paused().await? {
            let v = LendingVault::new(self.world.vault.vault, self.world.chain.provider());
            let pending = v.unpause().from(self.world.chain.dev_address(0)).send().await?;
            pending.get_receipt().await?;
        }
        Ok(())
    }

    /// An exploit, then PostgreSQL stopped (every connection cut) and started
    /// again: the replicas reconnect and finish.
    async fn restart_mid_incident(
        &mut self,
        opts: &Options,
        pg: &PgCluster,
    ) -> eyre::Result<Restart> {
        let from = self.head().await + 1;
        self.wait_acting(Duration::from_secs(30)).await?;
        let exploit_block = self.world.exploit().await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        pg.stop();
        tokio::time::sleep(Duration::from_secs(2)).await;
        pg.restart();
        let mut trial = self.outcome(opts.trials + 1, exploit_block, from).await?;
        trial.victim = usize::MAX;
        let alive = self.replicas.iter_mut().map(Replica::running).filter(|up| *up).count();
        self.reset().await?;
        Ok(Restart { trial, alive })
    }

    /// Every replica killed at once: no heartbeat ping later than one
    /// interval after.
    async fn silence(&mut self) -> eyre::Result<Silence> {
        // beating (all replicas ping; any one is enough)
        tokio::time::sleep(Duration::from_secs(2)).await;
        let killed = std::time::Instant::now();
        let pings = |since: std::time::Instant| {
            self.pages.seen().iter().filter(|s| s.path == "/ping" && s.at > since).count()
        };
        let pings_before = pings(killed - Duration::from_secs(1));
        for r in &mut self.replicas {
            r.kill();
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        let late_pings = pings(killed + Duration::from_secs(1));
        Ok(Silence { pings_before, late_pings })
    }
}
