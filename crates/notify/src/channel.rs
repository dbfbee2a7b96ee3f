//! Channels: each service's wire format.
//!
//! | kind | request |
//! |---|---|
//! | webhook | `POST url`, the message JSON; `X-Firebreak-Timestamp`, `X-Firebreak-Signature: sha256=HEX(HMAC-SHA256(secret, timestamp + "." + body))`, `Idempotency-Key` |
//! | slack | `POST webhook_url`, `{text, blocks}` (Block Kit: header, section, context) |
//! | discord | `POST webhook_url`, `{content, embeds: [{title, description, color, fields, footer}]}` within Discord's limits |
//! | telegram | `POST {base}/bot{token}/sendMessage`, `{chat_id, text, parse_mode: "MarkdownV2"}` |
//! | pagerduty | `POST {base}/v2/enqueue`, Events API v2 with `dedup_key = firebreak-incident-{id}` |
//! | command | runs `program args…` with the message JSON on stdin, within its time limit |

use std::time::Duration;

use firebreak_plan::{Channel as PlanChannel, ChannelService, SecretRef};
use hmac::{Hmac, Mac as _};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::Sha256;

use crate::message::{EventKind, Message};

/// Why a delivery failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{reason}")]
pub struct DeliveryError {
    /// What happened (never a secret).
    pub reason: String,
    /// Trying again may help (timeouts, 429, 5xx).
    pub retryable: bool,
    /// The service asked to wait this long (`Retry-After`).
    pub retry_after: Option<Duration>,
}

impl DeliveryError {
    fn permanent(reason: impl Into<String>) -> Self {
        Self { reason: reason.into(), retryable: false, retry_after: None }
    }
    fn transient(reason: impl Into<String>) -> Self {
        Self { reason: reason.into(), retryable: true, retry_after: None }
    }
}

/// A channel ready to deliver (secrets resolved).
#[derive(Debug)]
pub struct Channel {
    /// Key in the plan.
    pub id: String,
    /// Only for drills.
    pub drill_only: bool,
    target: Target,
    timeout: Duration,
}

#[derive(Debug)]
enum Target {
    Webhook { url: String, secret: Option<SecretString> },
    Slack { url: SecretString },
    Discord { url: SecretString },
    Telegram { base: String, token: SecretString, chat_id: String },
    PagerDuty { base: String, routing_key: SecretString },
    Command { program: String, args: Vec<String> },
    Email(Box<Smtp>),
}

#[derive(Debug)]
struct Smtp {
    host: String,
    port: u16,
    tls: firebreak_plan::SmtpTls,
    username: Option<String>,
    password: Option<SecretString>,
    from: String,
    to: Vec<String>,
}

/// Why a channel cannot be built.
#[derive(Debug, thiserror::Error)]
#[error("channel `{channel}`: {reason}")]
pub struct ChannelError {
    /// Channel key.
    pub channel: String,
    /// Why (with how to fix it).
    pub reason: String,
}

/// Delivery timeout when the channel sets none.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl Channel {
    /// Builds channel `id` of a plan, resolving its secrets.
    ///
    /// # Errors
    /// A secret that does not resolve (named, never shown).
    pub fn from_plan(
        id: &str,
        ch: &PlanChannel,
        base_dir: &std::path::Path,
    ) -> Result<Self, ChannelError> {
        let err = |reason: String| ChannelError { channel: id.to_owned(), reason };
        let secret = |r: &SecretRef, what: &str| -> Result<SecretString, ChannelError> {
            firebreak_plan::resolve_secret(r, base_dir)
                .map_err(|e| err(format!("`{what}`: {e} ({})", e.hint())))
        };
        let target = match &ch.service {
            ChannelService::Webhook { url, signing_secret } => Target::Webhook {
                url: url.clone(),
                secret: Some(secret(signing_secret, "signing_secret")?),
            },
            ChannelService::Slack { webhook_url, base_url } => Target::Slack {
                url: override_base(secret(webhook_url, "webhook_url")?, base_url.as_deref()),
            },
            ChannelService::Discord { webhook_url, base_url } => Target::Discord {
                url: override_base(secret(webhook_url, "webhook_url")?, base_url.as_deref()),
            },
            ChannelService::Telegram { bot_token, chat_id, base_url } => Target::Telegram {
                base: base_url.clone().unwrap_or_else(|| "https://api.telegram.org".into()),
                token: secret(bot_token, "bot_token")?,
                chat_id: chat_id.clone(),
            },
            ChannelService::Pagerduty { routing_key, base_url, .. } => Target::PagerDuty {
                base: base_url.clone().unwrap_or_else(|| "https://events.pagerduty.com".into()),
                routing_key: secret(routing_key, "routing_key")?,
            },
            ChannelService::Command { program, args } => {
                Target::Command { program: program.clone(), args: args.clone() }
            }
            ChannelService::Email { smtp_host, smtp_port, tls, credentials, from, to } => {
                let (username, password) = match credentials {
                    Some((user, password)) => {
                        let p = secret(password, "password")?;
                        // a server may echo the AUTH exchange (base64)
                        firebreak_primitives::redact::register_smtp_credentials(
                            user,
                            p.expose_secret(),
                        );
                        (Some(user.clone()), Some(p))
                    }
                    None => (None, None),
                };
                Target::Email(Box::new(Smtp {
                    host: smtp_host.clone(),
                    port: smtp_port.unwrap_or(match tls {
                        firebreak_plan::SmtpTls::Implicit => 465,
                        firebreak_plan::SmtpTls::Starttls => 587,
                        firebreak_plan::SmtpTls::None => 25,
                    }),
                    tls: *tls,
                    username,
                    password,
                    from: from.clone(),
                    to: to.clone(),
                }))
            }
        };
        Ok(Self {
            id: id.to_owned(),
            drill_only: ch.drill,
            target,
            // parsed once, by the plan's own duration parser: what `check`
            // accepted is what is honoured (`2h` is two hours, `2min` two minutes)
            timeout: ch.timeout.unwrap_or(DEFAULT_TIMEOUT),
        })
    }

    /// How long one delivery may take before it counts as failed.
    pub const fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Delivers `m` once.
    ///
    /// # Errors
    /// [`DeliveryError`], saying whether to retry and when.
    pub async fn deliver(&self, http: &reqwest::Client, m: &Message) -> Result<(), DeliveryError> {
        // every failure passes the redaction layer, whatever produced it
        self.deliver_unredacted(http, m).await.map_err(|mut e| {
            e.reason = firebreak_primitives::excerpt(&e.reason, 400);
            e
        })
    }

    async fn deliver_unredacted(
        &self,
        http: &reqwest::Client,
        m: &Message,
    ) -> Result<(), DeliveryError> {
        match &self.target {
            Target::Webhook { url, secret } => {
                let body = serde_json::to_string(m)
                    .map_err(|e| DeliveryError::permanent(e.to_string()))?;
                let ts = now_secs().to_string();
                let mut req = http
                    .post(url)
                    .header("content-type", "application/json")
                    .header("idempotency-key", &m.key)
                    .header("x-firebreak-timestamp", &ts);
                if let Some(secret) = secret {
                    req = req.header("x-firebreak-signature", sign(secret, &ts, &body));
                }
                send(req.body(body), self.timeout).await
            }
            Target::Slack { url } => {
                send(http.post(url.expose_secret()).json(&slack(m)), self.timeout).await
            }
            Target::Discord { url } => {
                send(http.post(url.expose_secret()).json(&discord(m)), self.timeout).await
            }
            Target::Telegram { base, token, chat_id } => {
                let url = format!(
                    "{}/bot{}/sendMessage",
                    base.trim_end_matches('/'),
                    token.expose_secret()
                );
                let body = serde_json::json!({
                    "chat_id": chat_id, "text": telegram_text(m), "parse_mode": "MarkdownV2",
                    "disable_web_page_preview": true,
                });
                send(http.post(url).json(&body), self.timeout).await.map_err(|mut e| {
                    e.reason = e.reason.replace(token.expose_secret(), "<bot_token>");
                    e
                })
            }
            Target::PagerDuty { base, routing_key } => {
                let url = format!("{}/v2/enqueue", base.trim_end_matches('/'));
                send(http.post(url).json(&pagerduty(m, routing_key.expose_secret())), self.timeout)
                    .await
            }
            Target::Command { program, args } => run_command(program, args, m, self.timeout).await,
            Target::Email(smtp) => send_mail(smtp, m, self.timeout).await,
        }
    }
}

fn override_base(url: SecretString, base: Option<&str>) -> SecretString {
    // base_url replaces scheme://host[:port] of the service URL (tests, gateways)
    let Some(base) = base else { return url };
    let u = url.expose_secret();
    let path =
        u.find("://").and_then(|i| u[i + 3..].find('/').map(|j| &u[i + 3 + j..])).unwrap_or("");
    SecretString::from(format!("{}{path}", base.trim_end_matches('/')))
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The operating system's error beneath a failed request (the innermost
/// `std::io::Error` of its causes), if there is one.
fn os_reason(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut found = None;
    let mut next = Some(e);
    while let Some(err) = next {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            found = Some(io.to_string());
        }
        next = err.source();
    }
    found
}

/// `sha256=` + hex HMAC-SHA256 of `timestamp + "." + body` with `secret`.
pub fn sign(secret: &SecretString, timestamp: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("sha256={}", alloy_primitives::hex::encode(mac.finalize().into_bytes()))
}

async fn send(req: reqwest::RequestBuilder, timeout: Duration) -> Result<(), DeliveryError> {
    let resp = match tokio::time::timeout(timeout, req.send()).await {
        Err(_) => return Err(DeliveryError::transient(format!("no answer within {timeout:?}"))),
        Ok(Err(e)) => {
            // reqwest puts the URL (with webhook tokens) in its errors: keep
            // only the kind, and the operating system's reason underneath
            // (refused, out of file descriptors), which names no URL
            let what = if e.is_connect() {
                "cannot connect"
            } else if e.is_timeout() {
                "timed out"
            } else {
                "request failed"
            };
            return Err(DeliveryError::transient(match os_reason(&e) {
                Some(why) => format!("{what}: {why}"),
                None => what.to_owned(),
            }));
        }
        Ok(Ok(r)) => r,
    };
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(Duration::from_secs_f64);
    // a gateway may echo the request (the URL with its token, the body with
    // a routing key): only the length and a short redacted excerpt are kept
    let body = read_capped(resp, 64 * 1024).await;
    let reason =
        format!("HTTP {} ({})", status.as_u16(), firebreak_primitives::summarise_body(&body));
    let retryable = status.as_u16() == 429 || status.is_server_error() || status.as_u16() == 408;
    Err(DeliveryError { reason, retryable, retry_after })
}

/// At most `cap` bytes of an answer's body, as text.
async fn read_capped(mut resp: reqwest::Response, cap: usize) -> String {
    let mut buf = Vec::new();
    while buf.len() < cap {
        match resp.chunk().await {
            Ok(Some(chunk)) => buf.extend_from_slice(&chunk[..chunk.len().min(cap - buf.len())]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

async fn run_command(
    program: &str,
    args: &[String],
    m: &Message,
    limit: Duration,
) -> Result<(), DeliveryError> {
    use tokio::io::AsyncWriteExt as _;
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| DeliveryError::permanent(format!("cannot run `{program}`: {e}")))?;
    let json = serde_json::to_vec(m).map_err(|e| DeliveryError::permanent(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(&json).await;
    }
    match tokio::time::timeout(limit, child.wait_with_output()).await {
        Err(_) => Err(DeliveryError::transient(format!(
            "`{program}` did not finish within {limit:?} (killed)"
        ))),
        Ok(Err(e)) => Err(DeliveryError::transient(format!("`{program}`: {e}"))),
        Ok(Ok(out)) if out.status.success() => Ok(()),
        Ok(Ok(out)) => {
            let err: String = String::from_utf8_lossy(&out.stderr).chars().take(200).collect();
            Err(DeliveryError::transient(format!(
                "`{program}` exited with {}: {}",
                out.status,
                err.trim()
            )))
        }
    }
}

async fn send_mail(smtp: &Smtp, m: &Message, limit: Duration) -> Result<(), DeliveryError> {
    use lettre::{
        AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor,
        message::{MultiPart, header::ContentType},
        transport::smtp::authentication::Credentials,
    };
    let recipients: Vec<String> = m.recipient.clone().map_or_else(|| smtp.to.clone(), |r| vec![r]);
    if recipients.is_empty() {
        return Err(DeliveryError::permanent(
            "no recipient: set `to` on the channel or a contact address",
        ));
    }
    // one line: a title from outside cannot start a line of its own
    let headline: String =
        m.headline().chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let mut builder = lettre::Message::builder()
        .from(
            smtp.from
                .parse()
                .map_err(|e| DeliveryError::permanent(format!("`from` {}: {e}", smtp.from)))?,
        )
        .subject(headline.clone())
        .message_id(Some(format!("<{}@firebreak>", m.key.replace(['/', ' '], "."))));
    for r in &recipients {
        builder = builder.to(r
            .parse()
            .map_err(|e| DeliveryError::permanent(format!("recipient `{r}`: {e}")))?);
    }
    let mut text = m.text.clone();
    for l in &m.links {
        text.push_str(&format!("\n{}: {}", l.label, l.url));
    }
    // the template escapes every value: a message quotes text from outside
    let html = maud::html! {
        p { strong { (headline) } }
        p {
            @for (i, line) in m.text.split('\n').enumerate() {
                @if i > 0 { br; }
                (line)
            }
        }
        @for l in &m.links { p { a href=(l.url) { (l.label) } } }
        p style="color:#868e96" { "firebreak · " (m.protocol) " · " (m.event.as_str()) }
    }
    .into_string();
    let email = builder
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    lettre::message::SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(text),
                )
                .singlepart(
                    lettre::message::SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(html),
                ),
        )
        .map_err(|e| DeliveryError::permanent(format!("cannot build the e-mail: {e}")))?;
    let transport = match smtp.tls {
        firebreak_plan::SmtpTls::None => {
            Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host))
        }
        firebreak_plan::SmtpTls::Starttls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
        }
        firebreak_plan::SmtpTls::Implicit => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
        }
    }
    .map_err(|e| DeliveryError::permanent(format!("SMTP set-up for {}: {e}", smtp.host)))?;
    let mut transport = transport.port(smtp.port).timeout(Some(limit));
    if let (Some(user), Some(pass)) = (&smtp.username, &smtp.password) {
        transport =
            transport.credentials(Credentials::new(user.clone(), pass.expose_secret().to_owned()));
    }
    match tokio::time::timeout(limit, transport.build().send(email)).await {
        Err(_) => Err(DeliveryError::transient(format!(
            "SMTP {}:{} did not answer within {limit:?}",
            smtp.host, smtp.port
        ))),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => {
            let permanent = e.is_permanent();
            let reason = format!("SMTP {}:{}: {e}", smtp.host, smtp.port);
            Err(DeliveryError { reason, retryable: !permanent, retry_after: None })
        }
    }
}

/// Text for Slack's mrkdwn: `&`, `<` and `>` escaped as Slack asks, so a
/// string from outside (a decoded event, a name) cannot write `<!channel>`,
/// a mention or a masked link (`<https://…|looks like the ack link>`).
pub fn escape_slack(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn slack(m: &Message) -> serde_json::Value {
    let header: String = m.headline().chars().take(150).collect();
    let mut text = escape_slack(&m.text);
    // our own links only; their labels are escaped too, and cannot close the link
    for l in &m.links {
        let label = escape_slack(&l.label).replace('|', "¦");
        text.push_str(&format!("\n<{}|{label}>", escape_slack(&l.url).replace('|', "%7C")));
    }
    let text: String = text.chars().take(3000).collect();
    serde_json::json!({
        "text": escape_slack(&m.headline()),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": header}},
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": escape_slack(&format!("firebreak · {} · {}{}", m.protocol, m.event.as_str(), if m.drill { " · DRILL" } else { "" }))}]}
        ]
    })
}

/// Text for Discord's markdown: a masked link (`[text](url)`) cannot be
/// written from outside; brackets are escaped (mentions are off anyway:
/// `allowed_mentions` parses nothing).
pub fn escape_discord(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '[' | ']' | '\\' | '<' | '>') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Cuts `s` to `max` characters, ending with `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn discord(m: &Message) -> serde_json::Value {
    // limits: content 2,000; title 256; description 4,096; field name 256,
    // value 1,024; 25 fields; everything in the embeds 6,000
    let link = m.links.first().map(|l| format!("\n… full text: {}", l.url)).unwrap_or_default();
    let title = truncate(&escape_discord(&m.headline()), 256);
    let mut description = escape_discord(&m.text);
    let budget = 6000 - title.chars().count() - 200;
    if description.chars().count() > budget.min(4096) {
        description =
            format!("{}{link}", truncate(&description, budget.min(4096) - link.chars().count()));
    }
    let fields: Vec<serde_json::Value> = m
        .links
        .iter()
        .take(10)
        .map(|l| serde_json::json!({"name": truncate(&escape_discord(&l.label), 256), "value": truncate(&l.url, 1024), "inline": false}))
        .collect();
    let color = match m.severity.as_str() {
        "P1" => 0xC92A2A,
        "P2" => 0xE8590C,
        "P3" => 0xF59F00,
        _ => 0x1971C2,
    };
    serde_json::json!({
        "content": truncate(&escape_discord(&m.headline()), 2000),
        "embeds": [{
            "title": title,
            "description": description,
            "color": color,
            "fields": fields,
            "footer": {"text": format!("firebreak · {}", m.event.as_str())},
        }],
        "allowed_mentions": {"parse": []},
    })
}

/// Escapes text for Telegram's MarkdownV2.
pub fn escape_markdown_v2(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "_*[]()~`>#+-=|{}.!\\".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn telegram_text(m: &Message) -> String {
    let mut text =
        format!("*{}*\n{}", escape_markdown_v2(&m.headline()), escape_markdown_v2(&m.text));
    for l in &m.links {
        let url = l.url.replace('\\', "\\\\").replace(')', "\\)");
        text.push_str(&format!("\n[{}]({url})", escape_markdown_v2(&l.label)));
    }
    truncate(&text, 4096)
}

fn pagerduty(m: &Message, routing_key: &str) -> serde_json::Value {
    let action = match m.event {
        EventKind::Acknowledged => "acknowledge",
        EventKind::Resolved => "resolve",
        _ => "trigger",
    };
    let dedup = m
        .incident
        .map_or_else(|| format!("firebreak-{}", m.key), |i| format!("firebreak-incident-{i}"));
    let mut body = serde_json::json!({
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": dedup,
    });
    if action == "trigger" {
        body["payload"] = serde_json::json!({
            "summary": truncate(&m.headline(), 1024),
            "source": format!("firebreak/{}", m.protocol),
            "severity": m.pagerduty_severity(),
            "timestamp": m.at,
            "custom_details": {"text": m.text, "chain_id": m.chain_id, "drill": m.drill, "event": m.event.as_str()},
        });
        body["links"] = serde_json::json!(
            m.links
                .iter()
                .map(|l| serde_json::json!({"href": l.url, "text": l.label}))
                .collect::<Vec<_>>()
        );
    }
    body
}

#[cfg(test)]
mod tests {
    use firebreak_plan::RawChannel;

    use super::*;

    fn hostile() -> Message {
        Message {
            event: crate::EventKind::IncidentOpened,
            incident: Some(1),
            severity: "P1".into(),
            chain_id: Some(1),
            protocol: "Acme <!here>".into(),
            title: "Transfer to <!channel> & [ack](https://evil.example/ack)".into(),
            text: "from <https://evil.example/ack|acknowledge here> <@U123> [click](https://evil.example)".into(),
            links: vec![crate::Link { label: "incident | <x>".into(), url: "https://war.room/i/1".into() }],
            drill: false,
            key: "k".into(),
            at: String::new(),
            recipient: None,
        }
    }

    #[test]
    fn slack_gets_no_mention_and_no_masked_link_from_outside() {
        let body = slack(&hostile());
        // every field Slack reads as mrkdwn (the header block is plain_text:
        // shown as written, never parsed)
        let mrkdwn = [
            body["text"].as_str().unwrap(),
            body["blocks"][1]["text"]["text"].as_str().unwrap(),
            body["blocks"][2]["elements"][0]["text"].as_str().unwrap(),
        ];
        assert_eq!(body["blocks"][0]["text"]["type"], "plain_text");
        for field in mrkdwn {
            for bad in ["<!channel>", "<!here>", "<@U123>", "<https://evil.example/ack|"] {
                assert!(!field.contains(bad), "{bad} reached Slack: {field}");
            }
        }
        assert!(mrkdwn[0].contains("&lt;!channel&gt; &amp; [ack]"), "{}", mrkdwn[0]);
        // our own link stays a link, its label cannot end it early
        assert!(
            mrkdwn[1].ends_with("\n<https://war.room/i/1|incident ¦ &lt;x&gt;>"),
            "{}",
            mrkdwn[1]
        );
    }

    #[test]
    fn discord_gets_no_masked_link_from_outside() {
        let wire = discord(&hostile()).to_string();
        assert!(!wire.contains("[click](https://evil.example)"), "{wire}");
        assert!(!wire.contains("[ack](https://evil.example/ack)"), "{wire}");
        assert!(wire.contains(r"\\[click\\](https://evil.example)"), "{wire}");
        assert!(wire.contains(r#""allowed_mentions":{"parse":[]}"#), "{wire}");
    }

    #[test]
    fn a_channel_timeout_is_read_as_check_reads_it() {
        let with = |t: &str| {
            let text = format!("kind = \"command\"\nprogram = \"true\"\ntimeout = \"{t}\"");
            let raw: RawChannel = toml::from_str(&text).expect("a channel");
            let ch = PlanChannel::from_raw(&raw)?;
            Channel::from_plan("c", &ch, std::path::Path::new(".")).map_err(|e| e.to_string())
        };
        // `2h` used to be read as 2 seconds, `2min` too
        assert_eq!(with("2h").expect("valid").timeout(), Duration::from_secs(7200));
        assert_eq!(with("2min").expect("valid").timeout(), Duration::from_secs(120));
        assert_eq!(with("500ms").expect("valid").timeout(), Duration::from_millis(500));
        assert_eq!(with("45s").expect("valid").timeout(), Duration::from_secs(45));
        let err = with("soon").expect_err("not a duration");
        assert!(err.contains("`timeout` `soon` is not a duration"), "{err}");
        let raw: RawChannel =
            toml::from_str("kind = \"command\"\nprogram = \"true\"").expect("a channel");
        let ch = PlanChannel::from_raw(&raw).expect("valid");
        let default = Channel::from_plan("c", &ch, std::path::Path::new(".")).expect("valid");
        assert_eq!(default.timeout(), DEFAULT_TIMEOUT);
    }

    #[test]
    fn markdown_v2_escapes_every_reserved_character() {
        assert_eq!(
            escape_markdown_v2("a_b*c[d](e)~`>#+-=|{}.!\\"),
            "a\\_b\\*c\\[d\\]\\(e\\)\\~\\`\\>\\#\\+\\-\\=\\|\\{\\}\\.\\!\\\\"
        );
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // python3: hmac.new(b'secret', b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
        let s = sign(&SecretString::from("secret"), "1700000000", r#"{"a":1}"#);
        assert_eq!(s, "sha256=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686");
    }
}
