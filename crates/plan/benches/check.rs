//! How long `firebreak check` takes on the complete example plan (parse,
//! per-entry deserialization, every cross-check, ABI loading and calldata
//! encoding), and on a broken plan with three errors (diagnostics path).
#![allow(missing_docs)]

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use firebreak_plan::{CheckOptions, check_source};

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = root.join("examples/plans");
    let example =
        std::fs::read_to_string(dir.join("acme-lending.toml")).expect("benchmark input file");
    let broken_dir = root.join("crates/plan/tests/plans/broken");
    let broken = std::fs::read_to_string(broken_dir.join("multiple-mistakes.toml"))
        .expect("benchmark input file");
    let opts = CheckOptions::default();
    c.bench_function("check acme-lending.toml (valid)", |b| {
        b.iter(|| {
            let checked = check_source("acme-lending.toml", &example, &dir, &opts);
            assert!(checked.plan.is_some());
        });
    });
    c.bench_function("check multiple-mistakes.toml (3 errors, rendered)", |b| {
        b.iter(|| {
            let checked = check_source("m.toml", &broken, &broken_dir, &opts);
            assert_eq!(checked.report.errors(), 3);
            checked.report.render()
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
