//! `firebreak token …`: the war room's per-member API tokens.

use eyre::bail;
use firebreak_store::WarRoomStore;
use serde_json::json;

use crate::{
    Outcome,
    args::TokenCommand,
    cmd::store::{self, time},
    output,
};

pub(crate) fn run(cmd: TokenCommand) -> eyre::Result<Outcome> {
    store::runtime()?.block_on(async move {
        match cmd {
            TokenCommand::Create { member, plan, label, json, db } => {
                let Some(plan) = crate::cmd::valid_plan(&plan)? else { return Ok(Outcome::Invalid) };
                if !plan.team.contains_key(&member) {
                    let known: Vec<&str> = plan.team.keys().map(String::as_str).collect();
                    bail!(
                        "`{member}` is not in the plan's [team] (members: {}); add them first",
                        known.join(", ")
                    );
                }
                let store = store::open(&db, true).await?;
                let token = firebreak_server::new_token();
                let info =
                    store.create_token(&member, &label, &firebreak_server::hash_token(&token)).await?;
                if json {
                    output::out(&serde_json::to_string_pretty(
                        &json!({"id": info.id, "member": member, "label": label, "token": token}),
                    )?);
                } else {
                    output::out(&token);
                    let roles: Vec<&str> =
                        plan.team[&member].roles.iter().map(|r| r.as_str()).collect();
                    output::error(&format!(
                        "token {} for `{member}` ({}) — shown once; only its hash is stored. Revoke with `firebreak token revoke {}`.",
                        info.id,
                        roles.join(", "),
                        info.id
                    ));
                }
                Ok(Outcome::Ok)
            }
            TokenCommand::List { json, db } => {
                let store = store::open(&db, false).await?;
                let list = store.tokens().await?;
                if json {
                    output::out(&serde_json::to_string_pretty(&list)?);
                } else if list.is_empty() {
                    output::error("no tokens; create one with `firebreak token create --member NAME --plan PLAN`");
                } else {
                    output::out(&format!("{:>4}  {:<16} {:<12} {:<24} {:<24} LABEL", "ID", "MEMBER", "STATE", "CREATED", "LAST USED"));
                    for t in &list {
                        output::out(&format!(
                            "{:>4}  {:<16} {:<12} {:<24} {:<24} {}",
                            t.id,
                            t.member,
                            if t.revoked_ms.is_some() { "revoked" } else { "active" },
                            time(t.created_ms),
                            t.last_used_ms.map(time).unwrap_or_else(|| "never".into()),
                            t.label
                        ));
                    }
                }
                Ok(Outcome::Ok)
            }
            TokenCommand::Revoke { id, db } => {
                let store = store::open(&db, false).await?;
                if !store.revoke_token(id).await? {
                    bail!("no active token {id} (see `firebreak token list`)");
                }
                output::out(&format!("token {id} revoked"));
                Ok(Outcome::Ok)
            }
        }
    })
}
