//! An RPC endpoint whose URL may be a secret (a provider's API key is often
//! part of the path). The URL is only ever shown by its label.

use secrecy::{ExposeSecret as _, SecretString};

/// One RPC endpoint: the URL, kept secret, and a label that is safe to print
/// (the URL itself when the plan wrote it out, `<env NAME>` or
/// `<file PATH>` when it came from a secret).
#[derive(Clone)]
pub struct RpcEndpoint {
    label: String,
    url: SecretString,
    secret: bool,
}

impl RpcEndpoint {
    /// An endpoint written in the plan: its URL is its label.
    pub fn public(url: impl Into<String>) -> Self {
        let url = url.into();
        Self { label: url.clone(), url: SecretString::from(url), secret: false }
    }

    /// An endpoint read from a secret, shown as `label`.
    pub fn secret(label: impl Into<String>, url: SecretString) -> Self {
        firebreak_primitives::register_secret(url.expose_secret());
        Self { label: label.into(), url, secret: true }
    }

    /// `(label, url)` pairs: a pair whose label differs from its URL is secret.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Vec<Self> {
        pairs
            .into_iter()
            .map(
                |(label, url)| {
                    if label == url { Self::public(url) } else { Self::secret(label, url.into()) }
                },
            )
            .collect()
    }

    /// Text safe to print for this endpoint.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Whether the URL came from a secret.
    pub const fn is_secret(&self) -> bool {
        self.secret
    }

    /// Whether it speaks WebSocket (and so offers subscriptions).
    pub fn is_websocket(&self) -> bool {
        let url = self.url.expose_secret();
        url.starts_with("ws://") || url.starts_with("wss://")
    }

    /// `text` with this endpoint's URL replaced by its label (errors of
    /// HTTP clients quote the URL they failed to reach).
    /// Every text also passes the process-wide redaction layer and is cut
    /// to a few hundred characters: a hostile endpoint's answer (alloy
    /// quotes an undecodable body whole) never reaches a log or the record
    /// in full.
    pub fn redact(&self, text: &str) -> String {
        firebreak_primitives::excerpt(&self.redact_url(text), 600)
    }

    fn redact_url(&self, text: &str) -> String {
        if !self.secret {
            return text.to_owned();
        }
        let url = self.url.expose_secret();
        let mut out = text.replace(url, &self.label);
        let bare = url.trim_end_matches('/');
        if !bare.is_empty() && bare != url {
            out = out.replace(bare, &self.label);
        }
        out
    }

    /// The URL itself, for a client to connect to: never print it (show
    /// [`Self::label`]; [`Self::redact`] what a client's error says).
    pub fn url(&self) -> &str {
        self.url.expose_secret()
    }
}

impl std::fmt::Debug for RpcEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RpcEndpoint").field(&self.label).finish()
    }
}

impl std::fmt::Display for RpcEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_url_never_shows_in_debug_display_or_redacted_text() {
        let e = RpcEndpoint::secret("<env MAIN_RPC>", "https://rpc.example/v3/key-123/".into());
        for shown in [
            format!("{e:?}"),
            e.to_string(),
            e.redact("error sending request for url (https://rpc.example/v3/key-123/)"),
            e.redact("GET https://rpc.example/v3/key-123 failed"),
        ] {
            assert!(!shown.contains("key-123"), "{shown}");
            assert!(shown.contains("<env MAIN_RPC>"), "{shown}");
        }
    }

    #[test]
    fn a_hostile_answer_is_cut_to_a_few_hundred_characters() {
        // alloy quotes an undecodable body whole; an endpoint may send 150 MB
        let e = RpcEndpoint::public("http://127.0.0.1:8545");
        let body = format!("deserialization error: expected value\n{}", "A".repeat(1 << 20));
        let shown = e.redact(&body);
        assert!(shown.len() < 700, "{} bytes", shown.len());
        assert!(shown.starts_with("deserialization error: expected value"), "{shown}");
        assert!(shown.ends_with("more characters)"), "{shown}");
    }

    #[test]
    fn a_public_url_is_its_own_label() {
        let e = RpcEndpoint::public("http://127.0.0.1:8545");
        assert_eq!(e.label(), "http://127.0.0.1:8545");
        assert!(!e.is_secret() && !e.is_websocket());
        assert!(RpcEndpoint::public("ws://127.0.0.1:8545").is_websocket());
    }
}
