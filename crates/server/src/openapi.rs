//! The OpenAPI 3.0 document of `/api/v1`, served at `/api/v1/openapi.json`.
//! Written from one table of operations so that a test can hold it against
//! the router.

use serde_json::{Map, Value, json};

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

fn str_list() -> Value {
    json!({"type": "array", "items": {"type": "string"}})
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
            Some(
                json!({"type": "object", "required": ["contracts"], "additionalProperties": false,
                "properties": {"contracts": str_list(), "reason": {"type": "string"}},
                "example": {"contracts": ["vault"], "reason": "the oracle is fixed and verified"}}),
            ),
            "202",
            ACT,
        ),
        op(
            "post",
            "/incidents/{id}/signatures",
            "Add a Safe owner's signature over the waiting SafeTx hash (checked against the hash and the owner set)",
            Some(
                json!({"type": "object", "required": ["signature"], "additionalProperties": false,
                "properties": {"signature": {"type": "string", "description": "0x-prefixed 65-byte r,s,v"},
                               "action": {"type": "string", "description": "action key, when several wait"}}}),
            ),
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
            Some(
                json!({"type": "object", "required": ["status", "message"], "additionalProperties": false,
                "properties": {"status": {"type": "string", "enum": ["investigating", "identified", "monitoring", "resolved"]},
                               "message": {"type": "string"}, "components": str_list()},
                "example": {"status": "investigating", "message": "We paused the vault while we investigate.", "components": []}}),
            ),
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
            Some(
                json!({"type": "object", "required": ["playbook", "reason"], "additionalProperties": false,
                "properties": {"playbook": {"type": "string"}, "reason": {"type": "string"},
                               "severity": {"type": "string", "enum": ["P1", "P2", "P3", "P4"]}},
                "example": {"playbook": "contain", "reason": "the oracle price looks wrong"}}),
            ),
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

/// The document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for op in ops() {
        let mut responses = Map::new();
        responses.insert(
            op.ok.to_owned(),
            json!({"description": describe(op.ok), "content": {"application/json": {"schema": {"type": "object"}}}}),
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
            "schemas": {"Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}},
        },
        "paths": paths,
    })
}

/// `(method, path)` of every operation, for tests.
#[doc(hidden)]
pub fn operations() -> Vec<(&'static str, &'static str)> {
    ops().into_iter().map(|o| (o.method, o.path)).collect()
}
