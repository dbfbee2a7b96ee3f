//! What the war room keeps: members' API tokens, dashboard sessions,
//! status-page announcements and incidents opened by hand.

use firebreak_primitives::{Actor, IncidentId, Severity};
use futures::future::BoxFuture;
use serde::Serialize;

use crate::Result;

/// An API token's record (never the token itself: only its hash is stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// Row id (used to revoke it).
    pub id: u64,
    /// Member handle from the plan.
    pub member: String,
    /// Free text to tell tokens apart ("laptop", "ci").
    pub label: String,
    /// Created (unix ms).
    pub created_ms: u64,
    /// Revoked (unix ms), if it was.
    pub revoked_ms: Option<u64>,
    /// Last accepted (unix ms).
    pub last_used_ms: Option<u64>,
}

/// A dashboard session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The token it was opened with (revoking the token ends the session).
    pub token_id: u64,
    /// Member handle.
    pub member: String,
    /// The session's CSRF token, embedded in every form.
    pub csrf: String,
    /// Expiry (unix ms).
    pub expires_ms: u64,
}

/// Where an announcement is in its review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnouncementState {
    /// Written, not yet approved.
    Draft,
    /// Approved, not yet public.
    Approved,
    /// On the public status page.
    Published,
}

impl AnnouncementState {
    /// Name as stored and shown.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Approved => "approved",
            Self::Published => "published",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Draft, Self::Approved, Self::Published].into_iter().find(|v| v.as_str() == s)
    }
}

/// A status-page announcement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Announcement {
    /// Id.
    pub id: u64,
    /// Incident it is about, if any.
    pub incident: Option<IncidentId>,
    /// `investigating`, `identified`, `monitoring` or `resolved`.
    pub status: String,
    /// Text shown to the public.
    pub message: String,
    /// Affected status-page component ids.
    pub components: Vec<String>,
    /// Review state.
    pub state: AnnouncementState,
    /// Member who wrote it.
    pub author: String,
    /// Member who approved it.
    pub approved_by: Option<String>,
    /// Member who published it.
    pub published_by: Option<String>,
    /// Written (unix ms).
    pub created_ms: u64,
    /// Approved (unix ms).
    pub approved_ms: Option<u64>,
    /// Published (unix ms).
    pub published_ms: Option<u64>,
}

/// A new announcement draft.
#[derive(Debug, Clone)]
pub struct NewAnnouncement {
    /// Incident it is about, if any.
    pub incident: Option<IncidentId>,
    /// Status word.
    pub status: String,
    /// Text.
    pub message: String,
    /// Components.
    pub components: Vec<String>,
    /// Who wrote it (`member:NAME`, or `system` for an `announce` step).
    pub author: Actor,
}

/// An incident opened by a person rather than an alert ("pause now").
#[derive(Debug, Clone)]
pub struct ManualIncident {
    /// Protocol name.
    pub protocol: String,
    /// Playbook to run.
    pub playbook: String,
    /// Chain id.
    pub chain_id: u64,
    /// Severity.
    pub severity: Severity,
    /// Title.
    pub title: String,
    /// Plan file hash.
    pub plan_hash: alloy_primitives::B256,
    /// Drill plan.
    pub drill: bool,
    /// Who asked for it.
    pub by: Actor,
    /// Why.
    pub reason: String,
    /// Now (unix ms).
    pub now_ms: u64,
}

/// Durable war-room state.
pub trait WarRoomStore: Send + Sync + std::fmt::Debug {
    /// Stores a token's hash for `member`.
    fn create_token<'a>(
        &'a self,
        member: &'a str,
        label: &'a str,
        hash: &'a str,
    ) -> BoxFuture<'a, Result<TokenInfo>>;

    /// Every token, newest first.
    fn tokens(&self) -> BoxFuture<'_, Result<Vec<TokenInfo>>>;

    /// Revokes a token and ends the sessions opened with it; `false` when
    /// there is no such active token.
    fn revoke_token(&self, id: u64) -> BoxFuture<'_, Result<bool>>;

    /// The active token with this hash, marking it used.
    fn token_by_hash<'a>(&'a self, hash: &'a str) -> BoxFuture<'a, Result<Option<TokenInfo>>>;

    /// Starts a session (the cookie value's hash is the key).
    fn create_session<'a>(
        &'a self,
        hash: &'a str,
        session: &'a Session,
    ) -> BoxFuture<'a, Result<()>>;

    /// The unexpired session with this hash, while its token is not revoked.
    fn session<'a>(&'a self, hash: &'a str, now_ms: u64) -> BoxFuture<'a, Result<Option<Session>>>;

    /// Ends a session.
    fn end_session<'a>(&'a self, hash: &'a str) -> BoxFuture<'a, Result<()>>;

    /// Stores a draft (with a timeline entry when it is about an incident).
    fn draft_announcement(&self, draft: NewAnnouncement) -> BoxFuture<'_, Result<Announcement>>;

    /// One announcement.
    fn announcement(&self, id: u64) -> BoxFuture<'_, Result<Option<Announcement>>>;

    /// Announcements, newest first: of one incident, or all; only published
    /// ones when `published_only`.
    fn announcements(
        &self,
        incident: Option<IncidentId>,
        published_only: bool,
    ) -> BoxFuture<'_, Result<Vec<Announcement>>>;

    /// Moves an announcement from `from` to the next state, recording who did
    /// it (and a timeline entry). `None` when it was not in state `from`.
    fn advance_announcement<'a>(
        &'a self,
        id: u64,
        from: AnnouncementState,
        member: &'a str,
    ) -> BoxFuture<'a, Result<Option<Announcement>>>;

    /// Opens an incident by hand; its first timeline entry records who and why.
    fn open_manual(&self, incident: ManualIncident) -> BoxFuture<'_, Result<IncidentId>>;
}
