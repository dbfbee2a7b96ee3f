//! One redaction layer for everything that leaves the process or the
//! incident record: error texts of channels, RPC endpoints and SMTP, log
//! lines, timeline bodies.
//!
//! Every secret the process resolves (see `firebreak_plan::resolve_secret`)
//! is registered here once; [`redact`] replaces each occurrence with
//! `<redacted>`. A secret that is a URL is also known by its shape: each
//! path segment and query value that looks like a token is a secret of its
//! own, so a gateway that echoes only the path (or percent-decodes it) is
//! caught too. Short values (under [`MIN_SECRET_LEN`] characters) are not
//! registered: they would redact ordinary words.
//!
//! ```
//! firebreak_primitives::register_secret("https://hooks.example/services/T0/B0/xoxb-Secret-123");
//! let text = firebreak_primitives::redact("HTTP 404: no route for /services/T0/B0/xoxb-Secret-123");
//! assert!(!text.contains("xoxb-Secret-123"), "{text}");
//! ```

use std::sync::RwLock;

/// What replaces a secret.
pub const REDACTED: &str = "<redacted>";

/// Values shorter than this are never registered.
pub const MIN_SECRET_LEN: usize = 6;

/// Longest excerpt of a foreign answer (an error body) kept in a message.
pub const EXCERPT_CHARS: usize = 160;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers `value` (and, for a URL, its token-like path segments and
/// query values; for any value, its percent-encoded form) as a secret.
pub fn register_secret(value: &str) {
    let value = value.trim();
    let mut new: Vec<String> = vec![value.to_owned()];
    let bare = value.trim_end_matches('/');
    new.push(bare.to_owned());
    if let Some(rest) = value.split_once("://").map(|(_, r)| r) {
        // host[:port]/path?query#fragment: the host is not secret
        let (path_query, _) = rest.split_once('#').unwrap_or((rest, ""));
        let path_query = path_query.find('/').map_or("", |i| &path_query[i..]);
        let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
        new.push(path.trim_end_matches('/').to_owned());
        new.extend(path.split('/').filter(|s| token_like(s)).map(str::to_owned));
        for pair in query.split('&') {
            let v = pair.split_once('=').map_or(pair, |(_, v)| v);
            if token_like(v) {
                new.push(v.to_owned());
            }
        }
    }
    let encoded: Vec<String> = new.iter().map(|s| percent_encode(s)).collect();
    new.extend(encoded);
    let mut secrets = SECRETS.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    for s in new {
        if s.chars().count() >= MIN_SECRET_LEN && !secrets.contains(&s) {
            secrets.push(s);
        }
    }
    // longest first: a secret that contains another is replaced whole
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// Registers the forms an SMTP AUTH exchange carries a password in
/// (`PLAIN`: base64 of `\0user\0password`; `LOGIN`: base64 of each), as
/// servers quote them back in their refusals.
pub fn register_smtp_credentials(user: &str, password: &str) {
    register_secret(password);
    register_secret(&base64(format!("\0{user}\0{password}").as_bytes()));
    register_secret(&base64(password.as_bytes()));
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A path segment or query value that may be a credential: long enough, and
/// not a plain lowercase word such as `services` or `webhooks`.
fn token_like(s: &str) -> bool {
    s.chars().count() >= MIN_SECRET_LEN && !s.chars().all(|c| c.is_ascii_lowercase() || c == '-')
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `text` with every registered secret replaced by [`REDACTED`].
pub fn redact(text: &str) -> String {
    let secrets = SECRETS.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut out = None::<String>;
    for s in secrets.iter() {
        let current = out.as_deref().unwrap_or(text);
        if current.contains(s.as_str()) {
            out = Some(current.replace(s.as_str(), REDACTED));
        }
    }
    out.unwrap_or_else(|| text.to_owned())
}

/// Whether `text` holds a registered secret.
pub fn holds_secret(text: &str) -> bool {
    let secrets = SECRETS.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    secrets.iter().any(|s| text.contains(s.as_str()))
}

/// At most `max` characters of `text`, redacted, on one line: control
/// characters become spaces, and a cut says how much was left out.
pub fn excerpt(text: &str, max: usize) -> String {
    // redact first: a cut must not leave half a secret behind
    let clean = redact(text);
    let total = clean.chars().count();
    let mut out: String = clean
        .chars()
        .take(max)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned();
    if total > max {
        out.push_str(&format!(" … ({} more characters)", total - max));
    }
    out
}

/// The summary of a foreign error answer: its length and a short redacted
/// excerpt, never the whole body.
pub fn summarise_body(body: &str) -> String {
    if body.trim().is_empty() {
        return "empty body".to_owned();
    }
    format!("{} bytes: {}", body.len(), excerpt(body, EXCERPT_CHARS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_url_is_known_whole_by_its_path_and_by_its_query() {
        register_secret("https://rpc.example/v3/Key-Abc123456?apikey=Q9x8c7v6b5&chain=1");
        for leak in [
            "error for https://rpc.example/v3/Key-Abc123456?apikey=Q9x8c7v6b5&chain=1",
            "404 /v3/Key-Abc123456",
            "bad key Key-Abc123456",
            "apikey=Q9x8c7v6b5",
            "percent %2Fv3%2FKey-Abc123456",
        ] {
            let r = redact(leak);
            assert!(!r.contains("Key-Abc123456") && !r.contains("Q9x8c7v6b5"), "{r}");
            assert!(r.contains(REDACTED), "{r}");
        }
        // the host and plain words stay
        assert_eq!(redact("rpc.example services"), "rpc.example services");
    }

    #[test]
    fn excerpts_are_short_single_line_and_redacted() {
        register_secret("s3cr3t-token-xyz");
        let body = format!("{}\nline two s3cr3t-token-xyz {}", "a".repeat(10), "b".repeat(500));
        let e = excerpt(&body, 40);
        assert!(!e.contains('\n') && !e.contains("s3cr3t"), "{e}");
        assert!(e.ends_with("more characters)"), "{e}");
        assert_eq!(summarise_body(""), "empty body");
        assert!(summarise_body(&body).starts_with(&format!("{} bytes: ", body.len())));
    }

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"\0user\0pass"), "AHVzZXIAcGFzcw==");
    }

    #[test]
    fn short_values_are_not_registered() {
        register_secret("abc");
        assert_eq!(redact("abc abc"), "abc abc");
    }
}
