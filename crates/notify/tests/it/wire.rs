//! Each channel sends exactly the request its service documents.

use firebreak_notify::{Channel, EventKind, Link, Message};
use hmac::Mac as _;

use crate::sink;

fn message(event: EventKind, text: &str) -> Message {
    Message {
        event,
        incident: Some(7),
        severity: "P1".into(),
        chain_id: Some(1),
        protocol: "Acme".into(),
        title: "drain fired".into(),
        text: text.into(),
        links: vec![Link {
            label: "exploit tx".into(),
            url: "https://etherscan.io/tx/0xabc".into(),
        }],
        drill: true,
        key: "7/notify/ch".into(),
        at: "2026-11-24T06:50:40.692Z".into(),
        recipient: None,
    }
}

/// A channel from TOML, with its secrets in files of `dir`.
fn channel(dir: &std::path::Path, id: &str, toml_text: &str) -> Channel {
    let raw: firebreak_plan::RawChannel = toml::from_str(toml_text).unwrap();
    let raw = firebreak_plan::Channel::from_raw(&raw).unwrap();
    Channel::from_plan(id, &raw, dir).unwrap()
}

/// A Telegram channel (bot token `123456:ABC-DEF`) whose API is at `base`.
fn telegram(dir: &std::path::Path, base: &str) -> Channel {
    let f = secret_file(dir, "token", "123456:ABC-DEF");
    channel(
        dir,
        "tg",
        &format!(
            "kind = \"telegram\"\nbot_token = {{ file = \"{f}\" }}\nchat_id = \"-100123\"\nbase_url = \"{base}\""
        ),
    )
}

fn secret_file(dir: &std::path::Path, name: &str, value: &str) -> String {
    std::fs::write(dir.join(name), value).unwrap();
    name.to_owned()
}

#[tokio::test]
async fn webhook_is_json_signed_over_timestamp_and_body() {
    let s = sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let f = secret_file(dir.path(), "secret", "whsec");
    let c = channel(
        dir.path(),
        "siem",
        &format!(
            "kind = \"webhook\"\nurl = \"{}/hooks/firebreak\"\nsigning_secret = {{ file = \"{f}\" }}",
            s.url
        ),
    );
    c.deliver(&reqwest::Client::new(), &message(EventKind::IncidentOpened, "hello")).await.unwrap();
    let seen = s.seen().remove(0);
    assert_eq!((seen.method.as_str(), seen.path.as_str()), ("POST", "/hooks/firebreak"));
    assert_eq!(seen.header("content-type"), "application/json");
    assert_eq!(seen.header("idempotency-key"), "7/notify/ch");
    let ts = seen.header("x-firebreak-timestamp");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"whsec").unwrap();
    mac.update(format!("{ts}.").as_bytes());
    mac.update(&seen.body);
    let want = format!("sha256={}", alloy_primitives::hex::encode(mac.finalize().into_bytes()));
    assert_eq!(seen.header("x-firebreak-signature"), want);
    let body = seen.json();
    assert_eq!(
        (body["event"].as_str(), body["incident"].as_u64(), body["drill"].as_bool()),
        (Some("incident_opened"), Some(7), Some(true))
    );
}

#[tokio::test]
async fn slack_gets_block_kit_with_a_drill_marker() {
    let s = sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let f = secret_file(dir.path(), "url", "https://hooks.slack.com/services/T000/B000/XXXX");
    let c = channel(
        dir.path(),
        "war-room",
        &format!("kind = \"slack\"\nwebhook_url = {{ file = \"{f}\" }}\nbase_url = \"{}\"", s.url),
    );
    c.deliver(&reqwest::Client::new(), &message(EventKind::IncidentOpened, "monitor fired"))
        .await
        .unwrap();
    let seen = s.seen().remove(0);
    assert_eq!(seen.path, "/services/T000/B000/XXXX");
    let b = seen.json();
    assert!(b["text"].as_str().unwrap().starts_with("[DRILL] [P1] drain fired · incident 7"));
    assert_eq!(b["blocks"][0]["type"], "header");
    assert_eq!(b["blocks"][0]["text"]["type"], "plain_text");
    assert_eq!(b["blocks"][1]["text"]["type"], "mrkdwn");
    assert!(
        b["blocks"][1]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("<https://etherscan.io/tx/0xabc|exploit tx>")
    );
    assert!(b["blocks"][2]["elements"][0]["text"].as_str().unwrap().contains("DRILL"));
}

#[tokio::test]
async fn discord_embeds_stay_within_discord_limits() {
    let s = sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let f = secret_file(dir.path(), "url", "https://discord.com/api/webhooks/123/abc");
    let c = channel(
        dir.path(),
        "community",
        &format!(
            "kind = \"discord\"\nwebhook_url = {{ file = \"{f}\" }}\nbase_url = \"{}\"",
            s.url
        ),
    );
    let long = "x".repeat(10_000);
    c.deliver(&reqwest::Client::new(), &message(EventKind::IncidentOpened, &long)).await.unwrap();
    let seen = s.seen().remove(0);
    assert_eq!(seen.path, "/api/webhooks/123/abc");
    let b = seen.json();
    assert!(b["content"].as_str().unwrap().chars().count() <= 2000);
    let e = &b["embeds"][0];
    let title = e["title"].as_str().unwrap().chars().count();
    let description = e["description"].as_str().unwrap();
    assert!(title <= 256 && description.chars().count() <= 4096);
    let fields: usize = e["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f["name"].as_str().unwrap().chars().count()
                + f["value"].as_str().unwrap().chars().count()
        })
        .sum();
    assert!(
        title
            + description.chars().count()
            + fields
            + e["footer"]["text"].as_str().unwrap().chars().count()
            <= 6000
    );
    assert!(description.ends_with("… full text: https://etherscan.io/tx/0xabc"), "cut with a link");
}

#[tokio::test]
async fn telegram_send_message_uses_markdown_v2_escaping() {
    let s = sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let c = telegram(dir.path(), &s.url);
    c.deliver(&reqwest::Client::new(), &message(EventKind::IncidentOpened, "amount > 1.5 (USDC)"))
        .await
        .unwrap();
    let seen = s.seen().remove(0);
    assert_eq!(seen.path, "/bot123456:ABC-DEF/sendMessage");
    let b = seen.json();
    assert_eq!(
        (b["chat_id"].as_str(), b["parse_mode"].as_str()),
        (Some("-100123"), Some("MarkdownV2"))
    );
    let text = b["text"].as_str().unwrap();
    assert!(text.contains("amount \\> 1\\.5 \\(USDC\\)"), "{text}");
    assert!(text.starts_with("*\\[DRILL\\] \\[P1\\] drain fired · incident 7*"), "{text}");
    // a failing bot never shows its token
    s.script([sink::Answer::Status(401)]);
    let err = c.deliver(&reqwest::Client::new(), &message(EventKind::Test, "x")).await.unwrap_err();
    assert!(!err.reason.contains("ABC-DEF") && !err.retryable, "{err:?}");
}

#[tokio::test]
async fn pagerduty_triggers_acknowledges_and_resolves_with_one_dedup_key() {
    let s = sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let f = secret_file(dir.path(), "key", "R0UT1NGKEY");
    let c = channel(
        dir.path(),
        "pager",
        &format!(
            "kind = \"pagerduty\"\nrouting_key = {{ file = \"{f}\" }}\nbase_url = \"{}\"",
            s.url
        ),
    );
    let http = reqwest::Client::new();
    for e in [EventKind::IncidentOpened, EventKind::Acknowledged, EventKind::Resolved] {
        c.deliver(&http, &message(e, "x")).await.unwrap();
    }
    let seen = s.seen();
    let actions: Vec<String> =
        seen.iter().map(|r| r.json()["event_action"].as_str().unwrap().to_owned()).collect();
    assert_eq!(actions, ["trigger", "acknowledge", "resolve"]);
    for r in &seen {
        assert_eq!(r.path, "/v2/enqueue");
        let b = r.json();
        assert_eq!(
            (b["routing_key"].as_str(), b["dedup_key"].as_str()),
            (Some("R0UT1NGKEY"), Some("firebreak-incident-7"))
        );
    }
    let trigger = seen[0].json();
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert_eq!(trigger["payload"]["source"], "firebreak/Acme");
    assert!(trigger["payload"]["summary"].as_str().unwrap().chars().count() <= 1024);
}

#[tokio::test]
async fn command_gets_the_event_on_stdin_within_its_time_limit() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("got.json");
    let script = dir.path().join("sms.sh");
    std::fs::write(&script, format!("#!/bin/sh\ncat > {}\n", out.display())).unwrap();
    let c = channel(
        dir.path(),
        "sms",
        &format!(
            "kind = \"command\"\nprogram = \"/bin/sh\"\nargs = [\"{}\"]\ntimeout = \"5s\"",
            script.display()
        ),
    );
    c.deliver(&reqwest::Client::new(), &message(EventKind::Page, "wake up")).await.unwrap();
    let got: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!((got["event"].as_str(), got["text"].as_str()), (Some("page"), Some("wake up")));

    let slow = channel(
        dir.path(),
        "slow",
        "kind = \"command\"\nprogram = \"/bin/sleep\"\nargs = [\"30\"]\ntimeout = \"300ms\"",
    );
    let t = std::time::Instant::now();
    let err =
        slow.deliver(&reqwest::Client::new(), &message(EventKind::Page, "x")).await.unwrap_err();
    assert!(t.elapsed() < std::time::Duration::from_secs(5));
    assert!(err.retryable && err.reason.contains("did not finish within"), "{err:?}");
}

/// Strings from outside (a decoded event, a name) as an attacker would
/// write them, for every channel's markup.
fn hostile() -> Message {
    let mut m = message(
        EventKind::IncidentOpened,
        "from <https://evil.example/ack|acknowledge here> <@U123> [click](https://evil.example) *bold* _it_ `code` <script>alert(1)</script>",
    );
    m.title = "Transfer to <!channel> & [ack](https://evil.example/ack)\r\nBcc: thief@evil.example"
        .into();
    m.protocol = "Acme <b>bold</b>".into();
    m
}

#[tokio::test]
async fn telegram_gets_no_markup_and_no_link_from_outside() {
    let s = sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let c = telegram(dir.path(), &s.url);
    c.deliver(&reqwest::Client::new(), &hostile()).await.unwrap();
    let b = s.seen().remove(0).json();
    assert_eq!(b["parse_mode"], "MarkdownV2");
    assert_eq!(b["disable_web_page_preview"], true);
    let text = b["text"].as_str().unwrap();
    // every reserved character from outside is escaped: no link, no emphasis
    for raw in [
        "[ack](https://evil.example/ack)",
        "[click](https://evil.example)",
        "*bold*",
        "_it_",
        "`code`",
    ] {
        assert!(!text.contains(raw), "{raw} reached Telegram unescaped: {text}");
    }
    assert!(text.contains(r"\[ack\]\(https://evil\.example/ack\)"), "{text}");
    assert!(text.contains(r"\*bold\* \_it\_ \`code\`"), "{text}");
    // our own link stays a link
    assert!(text.ends_with("[exploit tx](https://etherscan.io/tx/0xabc)"), "{text}");
}
