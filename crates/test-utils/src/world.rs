//! What tests do with a [`World`] beyond the chain: check a plan written
//! around it, connect the executor to it, build an alert by hand.

use firebreak_devnet::{World, repo_root};

/// Test helpers on a [`World`] that need firebreak's own crates (which the
/// devnet never depends on).
#[allow(async_fn_in_trait)] // test helpers, awaited where they are called
pub trait WorldExt {
    /// Checks a plan text (paths resolved from the repository root); the
    /// error carries the rendered diagnostics.
    ///
    /// # Errors
    /// When the plan has errors.
    fn load_plan(&self, text: &str) -> eyre::Result<firebreak_plan::Plan>;

    /// The executor's connection to this chain (its HTTP endpoint), as plan
    /// chain `local`.
    ///
    /// # Errors
    /// Never in practice (a loopback URL).
    async fn link(&self) -> eyre::Result<firebreak_respond::ChainLink>;

    /// An alert of the plan's `price` monitor (playbook `contain`) built by
    /// hand, for driving the executor without detection.
    fn alert(&self, severity: &str, key: &str) -> firebreak_primitives::Alert;
}

impl WorldExt for World {
    fn load_plan(&self, text: &str) -> eyre::Result<firebreak_plan::Plan> {
        let checked = firebreak_detect::check_source(
            "plan.toml",
            text,
            &repo_root(),
            &firebreak_plan::CheckOptions::default(),
        );
        checked.plan.ok_or_else(|| eyre::eyre!("the plan is invalid:\n{}", checked.report.render()))
    }

    async fn link(&self) -> eyre::Result<firebreak_respond::ChainLink> {
        let url = self.chain.http_url();
        Ok(firebreak_respond::ChainLink::from_urls(
            "local",
            self.chain.chain_id(),
            vec![(url.clone(), url)],
        )
        .await?)
    }

    fn alert(&self, severity: &str, key: &str) -> firebreak_primitives::Alert {
        alert(self.chain.chain_id(), severity, key)
    }
}

/// An alert of the fixture plan's `price` monitor (playbook `contain`) on
/// chain `chain_id`, built by hand.
///
/// # Panics
/// When `severity` is not P1 to P5.
pub fn alert(chain_id: u64, severity: &str, key: &str) -> firebreak_primitives::Alert {
    firebreak_primitives::Alert {
        monitor: "price".into(),
        severity: severity.parse().expect("a severity P1-P5"),
        playbook: Some("contain".into()),
        chain_id,
        block_number: 1,
        block_hash: Default::default(),
        tx_hash: None,
        log_index: None,
        evidence: Default::default(),
        probes: Default::default(),
        dedup_key: key.into(),
        confirmations: 0,
    }
}
