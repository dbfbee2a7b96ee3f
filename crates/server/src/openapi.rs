//! The OpenAPI 3.0 document of `/api/v1`, served at `/api/v1/openapi.json`.
//! Written from one table of operations so that a test can hold it against
//! the router; request bodies and the timeline's events are schemas derived
//! from the Rust types the API deserialises and writes (schemars), never
//! copied by hand.

use schemars::{JsonSchema, generate::SchemaSettings};
use serde_json::{Map, Value, json};

use crate::api::{DraftBody, SignBody, TriggerBody, UnpauseBody};
use crate::recovery::{BountySignBody, DecideBody, MessageBody};

/// The OpenAPI 3.0 schema of `T`, inline.
fn schema<T: JsonSchema>() -> Value {
    let mut settings = SchemaSettings::openapi3();
    settings.meta_schema = None;
    let mut v = settings.into_generator().into_root_schema_for::<T>().to_value();
    if let Some(o) = v.as_object_mut() {
        o.remove("title");
    }
    v
}

/// One operation: method, path (under `/api/v1`), summary, body schema,
/// success status, error statuses it may answer.
struct Op {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    body: Option<Value>,
    ok: &'static str,
    errors: &'static [&'static str],
    public: bool,
}

fn ops() -> Vec<Op> {
    const READ: &[&str] = &["401", "403", "404"];
    const ACT: &[&str] = &["401", "403", "404", "409", "422"];
    let op = |method, path, summary, body, ok, errors| Op {
        method,
        path,
        summary,
        body,
        ok,
        errors,
        public: false,
    };
    vec![
        Op {
            method: "get",
            path: "/openapi.json",
            summary: "This document",
            body: None,
            ok: "200",
            errors: &[],
            public: true,
        },
        op(
            "get",
            "/me",
            "The calling member, its roles and Safe owner address",
            None,
            "200",
            &["401", "403"],
        ),
        op(
            "get",
            "/incidents",
            "Incidents, newest first (filter by `status`, cap with `limit`)",
            None,
            "200",
            &["401", "403", "422"],
        ),
        op("get", "/incidents/{id}", "One incident", None, "200", READ),
        op(
            "get",
            "/incidents/{id}/timeline",
            "The hash-chained timeline (entries after `after`), with a readable text per entry",
            None,
            "200",
            &["401", "403", "404", "422"],
        ),
        op(
            "get",
            "/incidents/{id}/alerts",
            "Alerts linked to the incident (the evidence)",
            None,
            "200",
            READ,
        ),
        op(
            "get",
            "/incidents/{id}/steps",
            "Playbook steps with their state and approval gate",
            None,
            "200",
            READ,
        ),
        op(
            "get",
            "/incidents/{id}/actions",
            "On-chain actions and every transaction tried",
            None,
            "200",
            READ,
        ),
        op(
            "get",
            "/incidents/{id}/approvals",
            "Members' decisions on gated steps",
            None,
            "200",
            READ,
        ),
        op(
            "post",
            "/incidents/{id}/steps/{step}/approve",
            "Approve a gated step (counts once per member)",
            None,
            "200",
            ACT,
        ),
        op("post", "/incidents/{id}/steps/{step}/reject", "Reject a gated step", None, "200", ACT),
        op(
            "post",
            "/incidents/{id}/acknowledge",
            "Acknowledge the incident (stops paging)",
            None,
            "200",
            ACT,
        ),
        op(
            "post",
            "/incidents/{id}/unpause",
            "Request, or approve, unpausing contracts (the plan's higher unpause quorum)",
            Some(schema::<UnpauseBody>()),
            "202",
            ACT,
        ),
        op(
            "post",
            "/incidents/{id}/signatures",
            "Add a Safe owner's signature over the waiting SafeTx hash (checked against the hash and the owner set)",
            Some(schema::<SignBody>()),
            "200",
            ACT,
        ),
        op(
            "get",
            "/incidents/{id}/recovery",
            "The incident's recovery: attackers, traced transfers, returns, messages, bounties, clocks, and the ledger under the terms in force",
            None,
            "200",
            READ,
        ),
        op(
            "get",
            "/incidents/{id}/recovery/graph.svg",
            "The fund-flow graph (SVG)",
            None,
            "200",
            READ,
        ),
        op(
            "get",
            "/safes/{safe}/allowed",
            "The Safe's allow-list: SafeTx hashes the team approved, with who and why",
            None,
            "200",
            READ,
        ),
        op(
            "post",
            "/safes/{safe}/allowed",
            "Put a SafeTx hash the team approved on the Safe's allow-list (commander, operator or signer); `!safe_tx.approved` rules fire on any other",
            Some(schema::<crate::safes::AllowBody>()),
            "201",
            ACT,
        ),
        op(
            "post",
            "/incidents/{id}/attackers/{address}/confirm",
            "Confirm an attacker address: it is traced and messages go to it (commander, liaison or operator)",
            Some(schema::<DecideBody>()),
            "200",
            ACT,
        ),
        op(
            "post",
            "/incidents/{id}/attackers/{address}/reject",
            "Reject a proposed attacker address",
            Some(schema::<DecideBody>()),
            "200",
            ACT,
        ),
        op(
            "post",
            "/incidents/{id}/messages",
            "Draft an on-chain message to the confirmed attackers (the default offer from the Safe Harbor terms unless `text` is given)",
            Some(schema::<MessageBody>()),
            "201",
            ACT,
        ),
        op(
            "post",
            "/incidents/{id}/messages/{draft}/approve",
            "Approve a drafted message in one of the member's roles; once every approving role has, the acting daemon sends it",
            None,
            "200",
            ACT,
        ),
        op(
            "post",
            "/incidents/{id}/bounties/{hash}/signatures",
            "Add a Safe owner's signature over a proposed bounty's SafeTx hash; with the threshold met, the acting daemon executes it",
            Some(schema::<BountySignBody>()),
            "200",
            ACT,
        ),
        op(
            "get",
            "/incidents/{id}/announcements",
            "Announcements of the incident, every state",
            None,
            "200",
            READ,
        ),
        op(
            "post",
            "/incidents/{id}/announcements",
            "Draft a status-page announcement",
            Some(schema::<DraftBody>()),
            "201",
            ACT,
        ),
        op(
            "get",
            "/announcements",
            "Every announcement, newest first",
            None,
            "200",
            &["401", "403"],
        ),
        op("post", "/announcements/{id}/approve", "Approve a draft announcement", None, "200", ACT),
        op(
            "post",
            "/announcements/{id}/publish",
            "Publish an approved announcement on the status page",
            None,
            "200",
            ACT,
        ),
        op(
            "post",
            "/triggers",
            "Pause now: open an incident that runs a playbook once the plan's pause quorum approves step `trigger`",
            Some(schema::<TriggerBody>()),
            "201",
            &["401", "403", "422"],
        ),
    ]
}

fn params(path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    if path.contains("{id}") {
        out.push(json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}, "example": 1}));
    }
    if path.contains("{step}") {
        out.push(
            json!({"name": "step", "in": "path", "required": true, "schema": {"type": "string"}, "example": "pause-1"}),
        );
    }
    if path.contains("{address}") {
        out.push(json!({"name": "address", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}, "example": "0x7000000000000000000000000000000000000007"}));
    }
    if path.contains("{hash}") {
        out.push(json!({"name": "hash", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^0x[0-9a-fA-F]{64}$"}, "example": "0x1111111111111111111111111111111111111111111111111111111111111111"}));
    }
    if path.contains("{safe}") {
        out.push(
            json!({"name": "safe", "in": "path", "required": true, "schema": {"type": "string"}, "example": "emergency"}),
        );
    }
    if path.contains("{draft}") {
        out.push(json!({"name": "draft", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}, "example": 1}));
    }
    if path == "/incidents" {
        out.push(json!({"name": "status", "in": "query", "required": false, "schema": {"type": "string"}, "description": "comma-separated states"}));
        out.push(json!({"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0}}));
    }
    if path.ends_with("/timeline") {
        out.push(json!({"name": "after", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0}}));
    }
    out
}

fn describe(code: &str) -> &'static str {
    match code {
        "200" => "OK",
        "201" => "Created",
        "202" => "Accepted (recorded; the daemon acts once the quorum is met)",
        "401" => "No valid token or session",
        "403" => "The member lacks the role, or the session's CSRF token is missing",
        "404" => "No such record",
        "409" => "Conflicts with the record's state (already decided, already published …)",
        "422" => "The request cannot be done as sent; `error` says why",
        _ => "",
    }
}

/// The timeline answer: each entry is an [`firebreak_primitives::Event`]
/// (its `kind` and typed `body`) with its place in the hash chain and a text.
fn timeline_schema(event: Value) -> Value {
    json!({
        "type": "object",
        "required": ["incident", "verified", "entries"],
        "properties": {
            "incident": {"type": "integer", "minimum": 1},
            "verified": {"type": "boolean", "description": "whether the whole hash chain verifies"},
            "entries": {"type": "array", "items": {"allOf": [event, {
                "type": "object",
                "required": ["seq", "at", "actor", "prev_hash", "hash", "text"],
                "properties": {
                    "incident": {"type": "integer"},
                    "seq": {"type": "integer", "minimum": 1},
                    "at": {"type": "string", "format": "date-time"},
                    "actor": {"type": "object"},
                    "prev_hash": {"type": "string"},
                    "hash": {"type": "string"},
                    "text": {"type": "string", "description": "the entry in words"},
                },
            }]}},
        },
    })
}

/// The document.
pub fn document() -> Value {
    let mut settings = SchemaSettings::openapi3();
    settings.meta_schema = None;
    let mut generator = settings.into_generator();
    let event = generator.subschema_for::<firebreak_primitives::Event>().to_value();
    let mut schemas = generator.take_definitions(true);
    schemas.insert(
        "Error".into(),
        json!({"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}),
    );
    let mut paths = Map::new();
    for op in ops() {
        let mut responses = Map::new();
        let ok = if op.path.ends_with("/timeline") {
            timeline_schema(event.clone())
        } else {
            json!({"type": "object"})
        };
        responses.insert(
            op.ok.to_owned(),
            json!({"description": describe(op.ok), "content": {"application/json": {"schema": ok}}}),
        );
        for e in op.errors {
            responses.insert(
                (*e).to_owned(),
                json!({"description": describe(e), "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
            );
        }
        let mut o = json!({
            "summary": op.summary,
            "operationId": format!("{}{}", op.method, op.path.replace(['/', '{', '}', '.'], "_")),
            "parameters": params(op.path),
            "responses": responses,
        });
        if op.public {
            o["security"] = json!([]);
        }
        if let Some(schema) = op.body {
            o["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": schema}}});
        }
        let entry = paths.entry(op.path.to_owned()).or_insert_with(|| json!({}));
        entry[op.method] = o;
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "firebreak war room API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Incidents, their tamper-evident timelines, and the actions a team member may take. Authenticate with `Authorization: Bearer <token>` (`firebreak token create --member NAME`). Roles and quorums come from the plan.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
        "paths": paths,
    })
}

/// `(method, path)` of every operation, for tests.
#[doc(hidden)]
pub fn operations() -> Vec<(&'static str, &'static str)> {
    ops().into_iter().map(|o| (o.method, o.path)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schemas come from the types: a field added to a body or an event
    /// shows in the document without anyone editing it.
    #[test]
    fn bodies_and_events_are_derived_from_the_types() {
        let doc = document();
        let body = |path: &str| {
            doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
                .clone()
        };
        let unpause = body("/incidents/{id}/unpause");
        assert_eq!(unpause["required"], json!(["contracts"]), "{unpause}");
        assert_eq!(unpause["additionalProperties"], json!(false), "{unpause}");
        assert_eq!(unpause["example"]["contracts"], json!(["vault"]), "{unpause}");
        let draft = body("/incidents/{id}/announcements");
        assert_eq!(draft["properties"]["status"]["enum"][0], "investigating", "{draft}");
        let text = doc["components"]["schemas"].to_string();
        for kind in firebreak_primitives::Event::KINDS {
            assert!(text.contains(&format!("\"{kind}\"")), "event kind {kind} is not documented");
        }
        let timeline = &doc["paths"]["/incidents/{id}/timeline"]["get"]["responses"]["200"];
        assert!(timeline.to_string().contains("#/components/schemas/Event"), "{timeline}");
    }
}
