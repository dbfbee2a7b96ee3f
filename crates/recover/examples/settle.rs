//! The recovery ledger's arithmetic on the example plan's terms: two white
//! hats return funds after an exploit of 5,000,000 USDC and 400 ETH.
//!
//! ```text
//! cargo run -p firebreak-recover --example settle
//! ```

use std::collections::BTreeMap;

use alloy_primitives::{Address, U256};
use firebreak_recover::{MicroUsd, Rescue, Terms, ledger, settle, usd};

fn units(whole: u64, decimals: u8) -> U256 {
    U256::from(whole) * U256::from(10u8).pow(U256::from(decimals))
}

fn dollars(m: MicroUsd) -> String {
    format!("{}.{:02}", m / 1_000_000, (m % 1_000_000) / 10_000)
}

#[allow(clippy::print_stdout)] // an example prints its result
fn main() {
    let plan = firebreak_plan::check_file(
        std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/plans/acme-lending.toml"
        )),
        &firebreak_plan::CheckOptions::default(),
    )
    .expect("the example plan reads")
    .plan
    .expect("the example plan is valid");
    let terms = Terms::from(plan.safe_harbor.as_ref().expect("the example plan has [safe_harbor]"));
    println!(
        "terms: {} bps, {} USD per white hat, aggregate {:?} USD, retainable {}",
        terms.bounty_bps, terms.cap_usd, terms.aggregate_cap_usd, terms.retainable
    );
    let (a, b) = (Address::repeat_byte(0xa1), Address::repeat_byte(0xb2));
    let rescues = [
        // white hat A returns in two installments: USDC, then ETH
        Rescue::returned(a, "usdc", units(3_000_000, 6), 6, usd(1)),
        Rescue::returned(a, "ETH", units(300, 18), 18, usd(2_500)),
        // white hat B returns USDC once
        Rescue::returned(b, "usdc", units(1_500_000, 6), 6, usd(1)),
    ];
    let s = settle(&terms, &rescues);
    for w in &s.whitehats {
        println!(
            "white hat {}: returned {} USD, bounty {} USD (before caps {} USD), owed {} USD",
            w.whitehat,
            dollars(w.returned),
            dollars(w.bounty),
            dollars(w.uncapped),
            dollars(w.owed)
        );
    }
    if let Some((num, den)) = s.pro_rata {
        println!("aggregate cap binds: every bounty × {} / {}", dollars(num), dollars(den));
    }
    let lost = BTreeMap::from([
        ("usdc".to_owned(), units(5_000_000, 6)),
        ("ETH".to_owned(), units(400, 18)),
    ]);
    for line in ledger(&lost, &rescues) {
        println!(
            "{}: lost {}, returned {}, missing {}, net loss {}",
            line.asset, line.lost, line.returned, line.missing, line.net_loss
        );
    }
}
