//! Unpausing, only when the war room's unpause quorum approves it.

use super::*;

impl Executor {
    /// An unpause requested in the war room: once the plan's (higher)
    /// unpause quorum approves, each contract's unpause path is sent.
    /// Returns `true` while it is in flight.
    pub(super) async fn unpause(
        &self,
        id: IncidentId,
        timeline: &[firebreak_store::TimelineEntry],
        state: Option<&StepState>,
        at: u32,
        policy: FeePolicy,
    ) -> Result<bool> {
        if state.is_some_and(|s| s.status.is_final()) {
            return Ok(false);
        }
        let Some(contracts) = timeline.iter().find_map(|e| match &e.event {
            Event::UnpauseRequested(u) => Some(u.contracts.clone()),
            _ => None,
        }) else {
            return Ok(false);
        };
        let approval = self.plan.war_room.unpause.clone();
        let put = |status: StepStatus, detail: String| async move {
            if state.is_none_or(|s| s.status != status || s.detail.as_deref() != Some(&detail)) {
                self.store.set_step(id, UNPAUSE_STEP, at, status, Some(detail)).await?;
            }
            Ok::<_, Error>(())
        };
        match self.approval_state(id, UNPAUSE_STEP, &approval).await? {
            Gate::Waiting(d) => {
                put(StepStatus::AwaitingApproval, d).await?;
                return Ok(true);
            }
            Gate::Rejected(d) => {
                put(StepStatus::Failed, d).await?;
                return Ok(false);
            }
            Gate::Open(_) => {}
        }
        let mut targets = Vec::new();
        for c in &contracts {
            let contract = self
                .plan
                .contracts
                .get(c)
                .ok_or(Error::Plan { what: "contract", id: c.clone() })?;
            let Some(path) = contract.unpause.as_ref() else {
                return Err(Error::Plan { what: "unpause path of contract", id: c.clone() });
            };
            targets.push(Target {
                chain: &contract.chain,
                contract: c,
                address: contract.address,
                path,
                via: &path.via,
            });
        }
        if state.is_none_or(|s| s.status != StepStatus::Running) {
            self.store.set_step(id, UNPAUSE_STEP, at, StepStatus::Running, None).await?;
        }
        match self.on_chain(id, UNPAUSE_STEP, &targets, false, &[], policy).await? {
            Progress::Done(d) => {
                self.store.set_step(id, UNPAUSE_STEP, at, StepStatus::Succeeded, Some(d)).await?;
                self.store
                    .transition(
                        id,
                        IncidentStatus::Recovering,
                        Actor::System,
                        Some(format!("unpaused {}", contracts.join(", "))),
                    )
                    .await?;
                Ok(false)
            }
            Progress::Waiting(d) => {
                self.store.set_step(id, UNPAUSE_STEP, at, StepStatus::Running, Some(d)).await?;
                Ok(true)
            }
            Progress::Failed(d) => {
                self.store.set_step(id, UNPAUSE_STEP, at, StepStatus::Failed, Some(d)).await?;
                Ok(false)
            }
        }
    }
}
