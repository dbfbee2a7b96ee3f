//! Who is asking: per-member API tokens (`Authorization: Bearer fbk_…`) or a
//! dashboard session cookie. Session requests that change state must carry
//! the session's CSRF token in `X-CSRF-Token`.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{Method, request::Parts},
};
use firebreak_plan::Member;
use firebreak_primitives::Actor;
use sha2::{Digest, Sha256};

use crate::{
    error::{ApiError, ApiResult},
    state::WarRoom,
};

/// Name of the session cookie.
pub(crate) const COOKIE: &str = "firebreak_session";
/// Header carrying the CSRF token of a session.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";
/// How long a dashboard session lasts.
pub(crate) const SESSION_MS: u64 = 12 * 3600 * 1000;
/// Failed logins allowed per client address per minute.
pub(crate) const LOGIN_FAILURES_PER_MINUTE: u32 = 5;
/// Requests with an unknown bearer token allowed per client address per minute.
pub(crate) const BAD_TOKENS_PER_MINUTE: u32 = 30;

/// A new API token: `fbk_` and 64 hex digits (256 random bits).
pub fn new_token() -> String {
    format!("fbk_{}", random_hex())
}

pub(crate) fn random_hex() -> String {
    alloy_primitives::hex::encode(rand::random::<[u8; 32]>())
}

/// What the store keeps of a token or session id: its SHA-256, hex. The
/// values carry 256 random bits, so a slow password hash adds nothing.
pub fn hash_token(token: &str) -> String {
    alloy_primitives::hex::encode(Sha256::digest(token.as_bytes()))
}

/// How the caller authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Via {
    /// An API token.
    Token,
    /// A dashboard session, with its CSRF token.
    Session { csrf: String },
}

/// An authenticated team member.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) member: String,
    pub(crate) via: Via,
}

impl Caller {
    pub(crate) fn actor(&self) -> Actor {
        Actor::Member(self.member.clone())
    }

    pub(crate) fn csrf(&self) -> &str {
        match &self.via {
            Via::Session { csrf } => csrf,
            Via::Token => "",
        }
    }

    pub(crate) fn of<'p>(&self, state: &'p WarRoom) -> ApiResult<&'p Member> {
        state.plan.team.get(&self.member).ok_or_else(|| {
            ApiError::Forbidden(format!("member `{}` is no longer in the plan", self.member))
        })
    }
}

pub(crate) fn cookie<'h>(parts: &'h axum::http::HeaderMap, name: &str) -> Option<&'h str> {
    parts
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Resolves the caller of a request, if any (no CSRF check).
pub(crate) async fn identify(state: &WarRoom, parts: &Parts) -> ApiResult<Option<Caller>> {
    if let Some(auth) = parts.headers.get(axum::http::header::AUTHORIZATION) {
        let text = auth.to_str().unwrap_or_default();
        let Some(token) = text.strip_prefix("Bearer ").map(str::trim) else {
            return Err(ApiError::Unauthorized(
                "the Authorization header must be `Bearer <token>`".into(),
            ));
        };
        // guessing tokens costs the guesser: past the limit, no store lookup at all
        let ip = client(state, parts);
        state.bad_tokens.allowed(ip)?;
        let Some(info) = state.store.token_by_hash(&hash_token(token)).await? else {
            state.bad_tokens.failed(ip)?;
            return Err(ApiError::Unauthorized(
                "unknown or revoked token; create one with `firebreak token create --member NAME`"
                    .into(),
            ));
        };
        return Ok(Some(Caller { member: info.member, via: Via::Token }));
    }
    let Some(id) = cookie(&parts.headers, COOKIE) else { return Ok(None) };
    let now = firebreak_primitives::now_ms();
    Ok(state
        .store
        .session(&hash_token(id), now)
        .await?
        .map(|s| Caller { member: s.member, via: Via::Session { csrf: s.csrf } }))
}

impl FromRequestParts<WarRoom> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &WarRoom) -> Result<Self, ApiError> {
        let Some(caller) = identify(state, parts).await? else {
            return Err(ApiError::Unauthorized(
                "sign in: send `Authorization: Bearer <token>` or log in on the dashboard".into(),
            ));
        };
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if let Via::Session { csrf } = &caller.via
            && !safe
        {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if !sent.is_some_and(|s| constant_eq(s, csrf)) {
                return Err(ApiError::Forbidden(
                    "missing or wrong CSRF token (X-CSRF-Token); reload the page".into(),
                ));
            }
        }
        if !state.plan.team.contains_key(&caller.member) {
            return Err(ApiError::Forbidden(format!(
                "member `{}` is no longer in the plan",
                caller.member
            )));
        }
        Ok(caller)
    }
}

/// Compares secrets without leaking where they differ.
pub(crate) fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The client address: behind a trusted reverse proxy, the address the proxy
/// appended to `X-Forwarded-For` (the last entry; earlier ones come from the
/// client and prove nothing); otherwise the peer of the connection.
pub(crate) fn client(state: &WarRoom, parts: &Parts) -> Option<std::net::IpAddr> {
    if state.behind_proxy {
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .and_then(|a| a.trim().parse().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

/// `Err` with the wait while the client is held back for failed logins.
pub(crate) fn login_allowed(state: &WarRoom, ip: Option<std::net::IpAddr>) -> ApiResult<()> {
    state.logins.allowed(ip)
}

/// Counts a failed login; `Err` with the wait when it was one too many.
pub(crate) fn login_failed(state: &WarRoom, ip: Option<std::net::IpAddr>) -> ApiResult<()> {
    state.logins.failed(ip)
}

type Limiter = governor::DefaultKeyedRateLimiter<Option<std::net::IpAddr>>;

/// Failures per client address: a GCRA rate limiter (governor) whose quota
/// is `per_minute` failures (all at once at most), and the clients it
/// turned away, held back until it would take them again. Only failures
/// count: a member who signs in right is never limited by others.
#[derive(Debug)]
pub(crate) struct Failures {
    limiter: Limiter,
    held: std::sync::Mutex<std::collections::HashMap<Option<std::net::IpAddr>, std::time::Instant>>,
}

impl Failures {
    /// Up to `per_minute` failures a minute per client.
    pub(crate) fn per_minute(per_minute: u32) -> Self {
        let n = std::num::NonZeroU32::new(per_minute).unwrap_or(std::num::NonZeroU32::MIN);
        Self {
            limiter: governor::RateLimiter::keyed(governor::Quota::per_minute(n)),
            held: std::sync::Mutex::default(),
        }
    }

    /// `Err` with the wait while `ip` is held back; no store is read then.
    fn allowed(&self, ip: Option<std::net::IpAddr>) -> ApiResult<()> {
        let now = std::time::Instant::now();
        let mut held = self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        held.retain(|_, until| *until > now);
        match held.get(&ip) {
            Some(until) => Err(too_many(until.saturating_duration_since(now))),
            None => Ok(()),
        }
    }

    /// Counts a failure of `ip`; `Err` with the wait when the quota is spent,
    /// and `ip` is held back until the limiter would take it again.
    fn failed(&self, ip: Option<std::net::IpAddr>) -> ApiResult<()> {
        // forget clients whose quota is whole again: the map stays bounded
        self.limiter.retain_recent();
        match self.limiter.check_key(&ip) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                use governor::clock::Clock as _;
                let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
                let mut held = self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                held.insert(ip, std::time::Instant::now() + wait);
                Err(too_many(wait))
            }
        }
    }
}

fn too_many(wait: std::time::Duration) -> ApiError {
    ApiError::TooMany(wait.as_millis().div_ceil(1000).max(1).try_into().unwrap_or(u64::MAX))
}

/// The `Set-Cookie` value of a new session.
pub(crate) fn session_cookie(value: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        SESSION_MS / 1000,
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that ends a session.
pub(crate) fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Needs `member` to hold one of `roles`.
pub(crate) fn require_role(
    member_name: &str,
    member: &Member,
    roles: &[firebreak_primitives::Role],
    action: &str,
) -> ApiResult<()> {
    if member.roles.iter().any(|r| roles.contains(r)) {
        return Ok(());
    }
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    Err(ApiError::Forbidden(format!(
        "`{member_name}` may not {action}: it takes the role {}",
        names.join(" or ")
    )))
}
