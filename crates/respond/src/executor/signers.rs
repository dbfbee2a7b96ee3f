//! Keys: which signers can sign, drills' impersonated senders, and the
//! readiness incident when a P1 pause path cannot sign.

use super::*;

impl Executor {
    /// Drills on an anvil fork: signers whose key is not available send as
    /// impersonated accounts (the node must impersonate them, e.g.
    /// `anvil_autoImpersonateAccount`). Their address comes from the plan.
    #[must_use]
    pub fn impersonating(mut self) -> Self {
        for (id, signer) in &self.plan.signers {
            if self.keys.contains_key(id) {
                continue;
            }
            if let Some(address) = signer.address {
                tracing::info!(signer = %id, %address, "impersonated for the drill");
                self.keys.insert(id.clone(), Sender::Impersonated(address));
                self.key_errors.remove(id);
            }
        }
        self
    }

    /// Every P1 pause path that cannot sign with the keys this executor
    /// holds (see [`crate::p1_path_problems`]).
    pub fn containment_problems(&self) -> Vec<crate::PathProblem> {
        crate::p1_path_problems(&self.plan, |s| self.key(s).err())
    }

    /// Opens (or joins the open) P1 readiness incident for `problems`,
    /// records them and pages the on-call. A restart with the same problems
    /// adds nothing and pages nobody again. `None` when there is nothing
    /// wrong.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn raise_readiness(
        &self,
        problems: &[crate::PathProblem],
        drill: bool,
    ) -> Result<Option<IncidentId>> {
        use crate::readiness::READINESS_MONITOR;
        let Some(first) = problems.first() else { return Ok(None) };
        let chain_id = self
            .plan
            .contracts
            .get(&first.contract)
            .and_then(|c| self.plan.chains.get(&c.chain))
            .map_or(0, |c| c.id);
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let digest = alloy_primitives::keccak256(lines.join("\n"));
        let mut evidence = std::collections::BTreeMap::new();
        for (i, line) in lines.iter().enumerate() {
            evidence.insert(format!("problem{}", i + 1), line.clone());
        }
        let now = now_ms();
        let alert = firebreak_primitives::Alert {
            monitor: READINESS_MONITOR.to_owned(),
            severity: firebreak_primitives::Severity::P1,
            playbook: READINESS_MONITOR.to_owned(),
            chain_id,
            block_number: 0,
            block_hash: B256::ZERO,
            tx_hash: None,
            log_index: None,
            evidence,
            probes: Default::default(),
            dedup_key: format!("{READINESS_MONITOR}/{digest}"),
            confirmations: 0,
        };
        let title = format!("{}: NOT READY — a P1 pause path cannot sign", self.plan.protocol.name);
        let grouping = firebreak_store::Grouping {
            protocol: self.plan.protocol.name.clone(),
            plan_hash: self.plan.hash,
            // joins the readiness incident still open from an earlier start
            window_ms: u64::MAX,
            title: title.clone(),
            drill: drill || self.plan.mode == firebreak_plan::PlanMode::Drill,
            now_ms: now,
        };
        let out = self.store.record_alert(&alert, &grouping).await?;
        let id = out.incident;
        let Some(incident) = self.store.incident(id).await? else { return Ok(Some(id)) };
        let recorded = self.store.timeline(id).await?.iter().any(|e| {
            e.kind == "readiness_problem" && e.body["digest"] == json!(digest.to_string())
        });
        if !recorded {
            let body = json!({"digest": digest.to_string(), "problems": problems});
            self.store.append(id, Actor::System, "readiness_problem", body).await?;
        }
        let text = format!(
            "{}: firebreak runs but cannot pause everything a P1 alert would pause:\n{}\nFix the keys and restart firebreak; until then `/readyz` answers 503.",
            self.plan.protocol.name,
            lines.iter().map(|l| format!("- {l}")).collect::<Vec<_>>().join("\n"),
        );
        self.alarm(&incident, &format!("readiness/{digest}"), format!("[P1] {title}"), text)
            .await?;
        Ok(Some(id))
    }

    pub(super) fn key(&self, signer: &str) -> std::result::Result<&Sender, String> {
        self.keys.get(signer).ok_or_else(|| {
            self.key_errors
                .get(signer)
                .cloned()
                .unwrap_or_else(|| format!("signer `{signer}` is not in the plan"))
        })
    }
}
