//! E-mail through a minimal in-process SMTP server (plain SMTP on loopback):
//! one multipart message with a text and an HTML part.

use std::sync::{Arc, Mutex};

use firebreak_notify::{Channel, EventKind, Message};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

/// Accepts SMTP sessions and keeps (envelope recipients, DATA) of each mail.
#[allow(clippy::disallowed_methods)] // the server lives as long as the test's runtime
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<(Vec<String>, String)>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let store = mails.clone();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut rcpt = Vec::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_uppercase();
                    if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        write.write_all(b"250-sink\r\n250 8BITMIME\r\n").await.unwrap();
                    } else if upper.starts_with("RCPT TO:") {
                        rcpt.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
                        write.write_all(b"250 OK\r\n").await.unwrap();
                    } else if upper.starts_with("DATA") {
                        write.write_all(b"354 go ahead\r\n").await.unwrap();
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        store.lock().unwrap().push((std::mem::take(&mut rcpt), data));
                        write.write_all(b"250 queued\r\n").await.unwrap();
                    } else if upper.starts_with("QUIT") {
                        write.write_all(b"221 bye\r\n").await.unwrap();
                        break;
                    } else {
                        write.write_all(b"250 OK\r\n").await.unwrap();
                    }
                }
            });
        }
    });
    (port, mails)
}

#[tokio::test]
async fn email_is_multipart_text_and_html_to_the_channel_or_the_paged_person() {
    let (port, mails) = smtp_sink().await;
    let raw: firebreak_plan::RawChannel = toml::from_str(&format!(
        "kind = \"email\"\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {port}\ntls = \"none\"\nfrom = \"firebreak@acme.example\"\nto = [\"security@acme.example\", \"cto@acme.example\"]"
    ))
    .unwrap();
    let raw = firebreak_plan::Channel::from_raw(&raw).unwrap();
    let c = Channel::from_plan("email", &raw, std::path::Path::new(".")).unwrap();
    let mut m = Message {
        event: EventKind::IncidentOpened,
        incident: Some(4),
        severity: "P1".into(),
        chain_id: Some(1),
        protocol: "Acme".into(),
        title: "drain fired".into(),
        text: "amount > 1 & <b>bold</b>".into(),
        links: vec![firebreak_notify::Link {
            label: "tx".into(),
            url: "https://etherscan.io/tx/0xabc".into(),
        }],
        drill: false,
        key: "4/notify-1/email".into(),
        at: String::new(),
        recipient: None,
    };
    let http = reqwest::Client::new();
    c.deliver(&http, &m).await.unwrap();
    m.recipient = Some("alice@acme.example".into());
    m.key = "4/page/L1R0/alice/email".into();
    c.deliver(&http, &m).await.unwrap();
    let mails = mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[0].0, ["security@acme.example", "cto@acme.example"]);
    assert_eq!(mails[1].0, ["alice@acme.example"], "a page goes to the paged person only");
    let data = &mails[0].1;
    // the middle dot is RFC 2047-encoded
    assert!(data.contains("Subject: [P1] drain fired =?utf-8?b?wrc=?= incident 4"), "{data}");
    assert!(data.contains("Message-ID: <4.notify-1.email@firebreak>"), "{data}");
    assert!(data.contains("multipart/alternative"), "{data}");
    assert!(data.contains("Content-Type: text/plain"), "{data}");
    assert!(data.contains("Content-Type: text/html"), "{data}");
    assert!(data.contains("&lt;b&gt;bold&lt;/b&gt;"), "HTML is escaped: {data}");
    assert!(data.contains("https://etherscan.io/tx/0xabc"));
}

/// Strings from outside reach the e-mail escaped: no HTML or links from data
/// in the HTML part, and no header can be added through a title.
#[tokio::test]
async fn email_gets_no_markup_and_no_header_from_outside() {
    let (port, mails) = smtp_sink().await;
    let raw: firebreak_plan::RawChannel = toml::from_str(&format!(
        "kind = \"email\"\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {port}\ntls = \"none\"\nfrom = \"firebreak@acme.example\"\nto = [\"security@acme.example\"]"
    ))
    .unwrap();
    let raw = firebreak_plan::Channel::from_raw(&raw).unwrap();
    let c = Channel::from_plan("email", &raw, std::path::Path::new(".")).unwrap();
    let m = Message {
        event: EventKind::IncidentOpened,
        incident: Some(4),
        severity: "P1".into(),
        chain_id: Some(1),
        protocol: "Acme <b>bold</b>".into(),
        title: "Transfer to <a href=\"https://evil.example/ack\">ack</a>\r\nBcc: thief@evil.example".into(),
        text: "<script>alert(1)</script> <img src=https://evil.example/x> [click](https://evil.example)".into(),
        links: vec![firebreak_notify::Link { label: "tx".into(), url: "https://etherscan.io/tx/0xabc".into() }],
        drill: false,
        key: "4/notify-1/email".into(),
        at: String::new(),
        recipient: None,
    };
    c.deliver(&reqwest::Client::new(), &m).await.unwrap();
    let mails = mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].0, ["security@acme.example"], "no recipient added by a title");
    let data = &mails[0].1;
    assert!(
        !data.lines().any(|l| l.to_lowercase().starts_with("bcc:")),
        "a header was injected: {data}"
    );
    // the HTML part is what a mail client renders (the text part and the
    // subject are shown as written)
    let html = data.split("Content-Type: text/html").nth(1).unwrap().replace("=\n", "");
    for raw in ["<script>", "<img src", "<a href=3D\"https://evil.example", "<b>bold</b>"] {
        assert!(!html.contains(raw), "{raw} reached the HTML part: {html}");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
    assert!(html.contains("Acme &lt;b&gt;bold&lt;/b&gt;"), "{html}");
    assert!(
        html.contains("<a href=3D\"https://etherscan.io/tx/0xabc\">tx</a>"),
        "our own link stays: {html}"
    );
}
