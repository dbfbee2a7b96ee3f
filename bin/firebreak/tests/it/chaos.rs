//! Two trials of the chaos suite (`firebreak-chaos`, docs/replicas.md) with
//! this build's binary: three replicas on one PostgreSQL, a random one
//! SIGKILLed at a random moment of each response, then PostgreSQL restarted
//! mid-incident and every replica killed. Every promise must hold; the
//! figures of the 50-trial run are in the README.

use std::{path::PathBuf, time::Duration};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_chaos_trials_keep_every_promise() {
    let opts = firebreak_chaos::Options {
        firebreak: PathBuf::from(env!("CARGO_BIN_EXE_firebreak")),
        trials: 2,
        seed: 4,
        lease: Duration::from_secs(2),
        progress: false,
    };
    let report = firebreak_chaos::run(&opts).await.unwrap();
    assert_eq!(report.trials.len(), 2);
    assert!(report.ok(), "{}\n{report:#?}", report.markdown());
    let restart = report.restart.as_ref().unwrap();
    assert_eq!(restart.trial.pause_blocks.len(), 1, "{restart:?}");
    assert_eq!(report.silence.as_ref().unwrap().late_pings, 0);
}
