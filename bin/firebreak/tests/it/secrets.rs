//! Secrets stay secret, everywhere. A distinct secret is planted in every
//! kind of secret reference (an RPC URL with a key in its path and query,
//! Slack and Discord webhook URLs, a Telegram bot token, a PagerDuty routing
//! key and webhook secret, a webhook signing secret, an SMTP password, a
//! guardian key, the acknowledgement key); every service then fails in the
//! way that leaks most: each HTTP service answers 400 with an echo of the
//! whole request (URL, query and body), the RPC endpoint answers 500 with
//! the same echo, the SMTP server refuses the login quoting the AUTH line.
//! None of the secrets may show in the daemon's logs, stdout or stderr, the
//! API, the timeline, `/metrics`, `incident show`, the post-mortem or the
//! database file.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use firebreak_test_utils::{
    Pauser, World,
    sink::{self, Answer},
};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

use crate::{contain::Daemon, firebreak, stderr, stdout};

/// An SMTP server that offers AUTH and refuses every login, quoting the
/// client's AUTH line back (as some servers do). Keeps the lines it saw.
#[allow(clippy::disallowed_methods)] // the server lives as long as the test's runtime
async fn smtp_refusing_auth() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                while let Ok(Some(line)) = lines.next_line().await {
                    log.lock().unwrap().push(line.clone());
                    let upper = line.to_uppercase();
                    let answer = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        "250-sink\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n".to_owned()
                    } else if upper.starts_with("AUTH") {
                        format!("535 5.7.8 authentication failed for `{line}`\r\n")
                    } else if upper.starts_with("QUIT") {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        "250 OK\r\n".to_owned()
                    };
                    let _ = write.write_all(answer.as_bytes()).await;
                }
            });
        }
    });
    (port, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::too_many_lines)] // one scenario: plant, fail everything, search everywhere
async fn anvil_planted_secrets_never_leave_through_any_failure() {
    let world = World::new(Pauser::Guardian).await.unwrap();
    let echo = sink::start().await;
    echo.otherwise(Some(Answer::Echo(400)));
    let rpc = sink::start().await;
    rpc.otherwise(Some(Answer::Echo(500)));
    let (smtp_port, smtp_seen) = smtp_refusing_auth().await;
    let dir = tempfile::tempdir().unwrap();
    let guardian_key = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
    let secrets: Vec<(&str, String)> = vec![
        ("FB_RPC_URL", format!("{}/v3/RpcKeyPLANTED0001?apikey=PLANTEDrpcQuery0002", rpc.url)),
        ("FB_SLACK", format!("{}/services/T0PLANT/B0PLANT/PLANTEDslack0003", echo.url)),
        ("FB_TG", "123456:PLANTEDtelegram0005".to_owned()),
        ("FB_PD_HOOK", "PLANTEDpdhook0007".to_owned()),
        ("FB_WEBHOOK", "PLANTEDwebhook0008".to_owned()),
        ("FB_SMTP", "PLANTEDsmtp0009".to_owned()),
        ("FB_GUARDIAN_KEY", format!("0x{guardian_key}")),
        ("FIREBREAK_ACK_KEY", "PLANTEDackkey0010".to_owned()),
    ];
    std::fs::write(
        dir.path().join("discord"),
        format!("{}/api/webhooks/123/PLANTEDdiscord0004", echo.url),
    )
    .unwrap();
    std::fs::write(dir.path().join("pd"), "PLANTEDpagerduty0006").unwrap();
    let planted = [
        "RpcKeyPLANTED0001",
        "PLANTEDrpcQuery0002",
        "PLANTEDslack0003",
        "PLANTEDdiscord0004",
        "PLANTEDtelegram0005",
        "PLANTEDpagerduty0006",
        "PLANTEDpdhook0007",
        "PLANTEDwebhook0008",
        "PLANTEDsmtp0009",
        "PLANTEDackkey0010",
        guardian_key,
    ];

    let old_rpc = format!("rpc = [\"{}\", \"{}\"]", world.chain.ws_url(), world.chain.http_url());
    let old_signer = "[signers.guardian]\nanvil_account = 1";
    let old_steps = r#"steps = [{ kind = "pause", contracts = ["vault"] }]"#;
    let text = world.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    for old in [old_rpc.as_str(), old_signer, old_steps] {
        assert!(text.contains(old), "the fixture plan changed: {old}");
    }
    let channels = ["slack", "discord", "telegram", "pd", "hook", "mail"];
    let mut text = text
        .replace(
            &old_rpc,
            &format!("rpc = [{{ env = \"FB_RPC_URL\" }}, \"{}\"]", world.chain.http_url()),
        )
        .replace(
            old_signer,
            &format!(
                "[signers.guardian]\nenv = \"FB_GUARDIAN_KEY\"\naddress = \"{}\"",
                world.chain.dev_address(1)
            ),
        )
        .replace(
            old_steps,
            &format!(
                r#"steps = [{{ kind = "pause", contracts = ["vault"] }}, {{ kind = "notify", channels = [{}], message = "vault paused" }}]"#,
                channels.map(|c| format!("\"{c}\"")).join(", ")
            ),
        );
    text.push_str(&format!(
        r#"
[team.alice]
name = "Alice"
roles = ["commander"]
timezone = "UTC"
[channels.slack]
kind = "slack"
webhook_url = {{ env = "FB_SLACK" }}
[channels.discord]
kind = "discord"
webhook_url = {{ file = "discord" }}
[channels.telegram]
kind = "telegram"
bot_token = {{ env = "FB_TG" }}
chat_id = "-100123"
base_url = "{echo}"
[channels.pd]
kind = "pagerduty"
routing_key = {{ file = "pd" }}
webhook_secret = {{ env = "FB_PD_HOOK" }}
base_url = "{echo}"
[channels.hook]
kind = "webhook"
url = "{echo}/hook"
signing_secret = {{ env = "FB_WEBHOOK" }}
[channels.mail]
kind = "email"
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
tls = "none"
username = "alerts"
password = {{ env = "FB_SMTP" }}
from = "firebreak@acme.example"
to = ["security@acme.example"]
"#,
        echo = echo.url
    ));
    let plan = dir.path().join("plan.toml");
    std::fs::write(&plan, text).unwrap();
    let db = dir.path().join("firebreak.db");
    let db_s = db.display().to_string();
    let token = crate::war_room::token(&plan, &db, "alice");

    let from = (world.chain.block_number().await.unwrap() + 1).to_string();
    let env: Vec<(&str, &str)> = secrets.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let d = Daemon::start(
        &plan,
        &db,
        &["--chain", "local", "--from", &from, "--log-format", "json"],
        &env,
    );
    let url = d.war_room_url().await;
    world.exploit().await.unwrap();
    for _ in 0..300 {
        if world.paused().await.unwrap() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(world.paused().await.unwrap(), "{}", d.output());
    // every channel failed for good (400 is permanent; SMTP 535 too)
    let failed = || {
        let o = firebreak(&["incident", "show", "1", "--db", &db_s, "--json"]);
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o).matches("message_failed").count()
    };
    for _ in 0..300 {
        if failed() >= channels.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(failed() >= channels.len(), "not every channel failed yet:\n{}", d.output());
    assert!(!rpc.seen().is_empty(), "the secret RPC endpoint was never asked");
    assert!(
        smtp_seen.lock().unwrap().iter().any(|l| l.to_uppercase().starts_with("AUTH")),
        "the SMTP login was never tried"
    );
    // PagerDuty's webhook secret is read from the plan: a signed call is accepted
    let http = reqwest::Client::new();
    let hook = |sig: String| {
        http.post(format!("{url}/hooks/pagerduty"))
            .header("x-pagerduty-signature", sig)
            .body("{\"event\":{\"event_type\":\"incident.annotated\"}}")
            .send()
    };
    let signed = {
        use hmac::Mac as _;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"PLANTEDpdhook0007").unwrap();
        mac.update(b"{\"event\":{\"event_type\":\"incident.annotated\"}}");
        format!("v1={}", alloy::primitives::hex::encode(mac.finalize().into_bytes()))
    };
    assert_eq!(hook("v1=00".into()).await.unwrap().status().as_u16(), 401);
    assert_eq!(hook(signed).await.unwrap().status().as_u16(), 200);

    // everything a person or a program can read
    let mut places: Vec<(String, String)> = Vec::new();
    for path in ["/api/v1/incidents", "/api/v1/incidents/1", "/incidents/1", "/"] {
        let r = http.get(format!("{url}{path}")).bearer_auth(&token).send().await.unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        places.push((format!("GET {path}"), r.text().await.unwrap()));
    }
    let metrics = http
        .get(format!("{url}/metrics"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("firebreak_ready"), "{metrics}");
    places.push(("/metrics".into(), metrics));
    let show = firebreak(&["incident", "show", "1", "--db", &db_s]);
    places.push(("incident show".into(), format!("{}{}", stdout(&show), stderr(&show))));
    let out_dir = dir.path().join("pm");
    let pm =
        firebreak(&["postmortem", "1", "--db", &db_s, "--out", &out_dir.display().to_string()]);
    assert!(pm.status.success(), "{}", stderr(&pm));
    for f in std::fs::read_dir(&out_dir).unwrap() {
        let f = f.unwrap().path();
        places.push((
            f.display().to_string(),
            String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into(),
        ));
    }
    let (code, output) = d.terminate().await;
    assert_eq!(code, Some(0), "{output}");
    assert!(output.contains("delivery failed"), "the failures were logged: {output}");
    places.push(("daemon stdout and stderr".into(), output));
    for suffix in ["", "-wal"] {
        let f = format!("{db_s}{suffix}");
        if let Ok(bytes) = std::fs::read(&f) {
            places.push((f, String::from_utf8_lossy(&bytes).into()));
        }
    }
    // the failures are there, without the secrets
    let all: String = places.iter().map(|(_, t)| t.as_str()).collect();
    assert!(all.contains("HTTP 400"), "channel failures are recorded");
    assert!(all.contains("535"), "the SMTP refusal is recorded");
    for (place, text) in &places {
        for secret in planted {
            assert!(!text.contains(secret), "`{secret}` leaked into {place}:\n{text}");
        }
    }
}

/// The documented variable is read: a daemon whose plan names no
/// `webhook_secret` takes PagerDuty's signing secret from
/// `FIREBREAK_PAGERDUTY_WEBHOOK_SECRET` (it used to be ignored, and every
/// webhook was answered 404).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anvil_the_pagerduty_webhook_secret_comes_from_the_documented_variable() {
    use hmac::Mac as _;
    let world = World::new(Pauser::Guardian).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.toml");
    std::fs::write(&plan, world.plan_text(r#"[{ signer = "guardian" }]"#, &[])).unwrap();
    let db = dir.path().join("firebreak.db");
    let d = Daemon::start(
        &plan,
        &db,
        &["--chain", "local"],
        &[("FIREBREAK_PAGERDUTY_WEBHOOK_SECRET", "pd-signing-secret")],
    );
    let url = d.war_room_url().await;
    let body = "{\"event\":{\"event_type\":\"incident.annotated\"}}";
    let sign = |key: &[u8]| {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
        mac.update(body.as_bytes());
        format!("v1={}", alloy::primitives::hex::encode(mac.finalize().into_bytes()))
    };
    let http = reqwest::Client::new();
    for (key, status) in [(&b"another secret"[..], 401), (&b"pd-signing-secret"[..], 200)] {
        let r = http
            .post(format!("{url}/hooks/pagerduty"))
            .header("x-pagerduty-signature", sign(key))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status);
    }
    let (code, out) = d.terminate().await;
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("pd-signing-secret"), "{out}");
}
