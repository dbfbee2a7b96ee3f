//! The Safe Harbor terms in force go on an incident's timeline when it
//! opens, in the opening's own transaction: what white hats were offered is
//! part of the record, whatever the plan says later.

use std::sync::Arc;

use firebreak_respond::IncidentManager;
use firebreak_store::prelude::*;
use firebreak_store::{SqliteStore, verify_chain};
use firebreak_test_utils::{Pauser, World, WorldExt as _};

#[tokio::test]
async fn anvil_an_incident_opens_with_the_safe_harbor_terms_in_force() {
    let w = World::new(Pauser::Guardian).await.unwrap();
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    text.push_str(
        r#"
[safe_harbor]
agreement_uri = "ipfs://bafy-terms"
bounty_percent = 12.5
bounty_cap_usd = 2_000_000
retainable = true
identity = "named"
recovery = { local = "0x4000000000000000000000000000000000000004" }
contacts = [{ name = "Security", contact = "security@test.example" }]
"#,
    );
    let plan = Arc::new(w.load_plan(&text).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let manager = IncidentManager::new(plan, store.clone());
    let id = manager.on_alert(&w.alert("P1", "a")).await.unwrap().incident;
    // a second alert of the same attack joins: the terms are not repeated
    assert_eq!(manager.on_alert(&w.alert("P1", "b")).await.unwrap().incident, id);

    let t = store.timeline(id).await.unwrap();
    let kinds: Vec<&str> = t.iter().map(|e| e.kind()).collect();
    assert_eq!(kinds[..2], ["incident_opened", "safe_harbor_terms"], "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "safe_harbor_terms").count(), 1);
    let terms = &t[1].body;
    assert_eq!(terms["bounty_percent"], "12.50");
    assert_eq!(terms["bounty_cap_usd"], 2_000_000);
    assert_eq!(terms["retainable"], true);
    assert_eq!(terms["identity"], "named");
    assert_eq!(terms["chains"][0]["caip2"], "eip155:31337");
    assert_eq!(terms["chains"][0]["recovery"], "0x4000000000000000000000000000000000000004");
    let accounts = terms["chains"][0]["accounts"].as_array().unwrap();
    assert!(accounts.iter().any(|a| a == &w.vault.vault.to_string()), "{accounts:?}");
    let said = firebreak_store::timeline::describe(&t[1]);
    assert!(said.starts_with("Safe Harbor terms in force: 12.50 % bounty"), "{said}");
    verify_chain(&t).unwrap();
}

mod recover {
    //! Recovery on anvil: attackers proposed from the exploit transaction and
    //! confirmed, funds traced three hops through a split into a labelled
    //! bridge, an on-chain message sent with exactly the approved text and a
    //! reply read back, and the ledger of returns with its bounties.

    use std::{collections::BTreeMap, sync::Arc};

    use alloy::{
        network::TransactionBuilder as _,
        primitives::{Address, B256, Bytes, U256},
        providers::Provider as _,
        rpc::types::TransactionRequest,
    };
    use alloy_sol_types::SolCall as _;
    use firebreak_primitives::{Alert, Event, IncidentId};
    use firebreak_recover::{Terms, book::AttackerState, graph::FlowGraph, usd};
    use firebreak_respond::{IncidentManager, Recovery};
    use firebreak_store::{SqliteStore, prelude::*, verify_chain};
    use firebreak_test_utils::{
        FIXTURE_RECOVERY as RECOVERY, LendingVault, MockUSDC, Pauser, World, WorldExt as _,
        fixture_safe_harbor, fixture_team,
    };

    const BRIDGE: &str = "0xB0B0000000000000000000000000000000000B0B";
    const COLD: &str = "0xC01D000000000000000000000000000000000C01";

    alloy_sol_types::sol! {
        function transfer(address to, uint256 amount) external returns (bool);
    }

    struct Setup {
        w: World,
        store: Arc<SqliteStore>,
        recovery: Recovery,
        manager: IncidentManager,
        _dir: tempfile::TempDir,
    }

    fn plan_text(w: &World, retainable: bool, aggregate: Option<u64>, prices: &str) -> String {
        let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
        text.push_str(&fixture_team(&[
            ("alice", &["liaison"]),
            ("bob", &["commander", "signer"]),
            ("carol", &["operator", "signer"]),
        ]));
        text.push_str(
            "\n[signers.messenger]\nanvil_account = 2\n[channels.war-room]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/hook\"\nsigning_secret = { env = \"FIREBREAK_TEST_UNUSED_SECRET\" }\n",
        );
        let terms = format!(
            "retainable = {retainable}\n{}",
            aggregate.map(|a| format!("aggregate_cap_usd = {a}")).unwrap_or_default()
        );
        let recovery = format!(
            "trace_hops = 3\ndust_usd = 100\nprices = {{ {prices} }}\nlabels = [{{ address = \"{BRIDGE}\", label = \"Portal bridge\", kind = \"bridge\" }}]\nmessage_signer = \"messenger\"\nbounty_safe = \"emergency\"\nbounty_token = \"usdc\"\nchannels = [\"war-room\"]"
        );
        text.push_str(&fixture_safe_harbor(&terms, Some(&recovery)));
        text.push_str("[team.alice.contacts]\nwar-room = \"https://hooks.test/alice\"\n");
        text
    }

    async fn setup(retainable: bool, aggregate: Option<u64>) -> Setup {
        let w = World::manual(Pauser::Guardian).await.unwrap();
        setup_in(w, retainable, aggregate, "usdc = 1, eth = 2000").await
    }

    async fn setup_in(w: World, retainable: bool, aggregate: Option<u64>, prices: &str) -> Setup {
        let plan = Arc::new(w.load_plan(&plan_text(&w, retainable, aggregate, prices)).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
        let manager = IncidentManager::new(plan.clone(), store.clone());
        let links = BTreeMap::from([("local".to_owned(), w.link().await.unwrap())]);
        let recovery = Recovery::new(plan, store.clone(), links);
        Setup { w, store, recovery, manager, _dir: dir }
    }

    /// Sends a transaction from dev account `from` and mines it.
    async fn send(w: &World, from: usize, to: Address, data: Vec<u8>, value: U256) -> (B256, u64) {
        let tx = TransactionRequest::default()
            .from(w.chain.dev_address(from))
            .to(to)
            .with_input(Bytes::from(data))
            .value(value);
        let pending = w.chain.provider().send_transaction(tx).await.unwrap();
        let hash = *pending.tx_hash();
        let block = w.mine().await.unwrap();
        let r = w.chain.provider().get_transaction_receipt(hash).await.unwrap().unwrap();
        assert!(r.status(), "transaction from dev {from} reverted");
        (hash, block)
    }

    async fn usdc_transfer(w: &World, from: usize, to: Address, whole: u64) -> u64 {
        let data =
            transferCall { to, amount: U256::from(whole) * U256::from(1_000_000u64) }.abi_encode();
        send(w, from, w.vault.asset, data, U256::ZERO).await.1
    }

    /// Dev account `who` drains the vault (price pushed up, then a borrow of
    /// all its USDC against 1 ETH): the incident opens on the borrow's alert.
    async fn drain(s: &Setup, who: usize) -> (IncidentId, u64) {
        let w = &s.w;
        let v = LendingVault::new(w.vault.vault, w.chain.provider());
        let data = v.setPrice(U256::from(10u64).pow(U256::from(30u64))).calldata().to_vec();
        send(w, who, w.vault.vault, data, U256::ZERO).await;
        let all = U256::from(1_000_000_000_000u64);
        let data = v.borrow(all).calldata().to_vec();
        let (hash, block) =
            send(w, who, w.vault.vault, data, U256::from(10u64).pow(U256::from(18u64))).await;
        let mut alert: Alert = w.alert("P1", &format!("borrow-{who}"));
        alert.tx_hash = Some(hash);
        alert.block_number = block;
        let id = s.manager.on_alert(&alert).await.unwrap().incident;
        (id, block)
    }

    async fn kinds(s: &Setup, id: IncidentId) -> Vec<Event> {
        s.store.timeline(id).await.unwrap().into_iter().map(|e| e.event).collect()
    }

    #[tokio::test]
    async fn anvil_funds_are_traced_three_hops_through_a_split_into_a_labelled_bridge() {
        let s = setup(false, None).await;
        let w = &s.w;
        let attacker = w.chain.dev_address(7);
        let (id, exploit_block) = drain(&s, 7).await;

        // the evidence proposes the attacker and records what left the vault
        assert!(s.recovery.propose(id).await.unwrap() >= 1);
        assert_eq!(s.recovery.propose(id).await.unwrap(), 0, "proposing again adds nothing");
        let view = s.recovery.view(id).await.unwrap();
        let a = view.attackers.iter().find(|a| a.address == attacker).unwrap();
        assert_eq!(a.state, AttackerState::Proposed);
        assert!(a.reasons.iter().any(|r| r.starts_with("sent the exploit transaction")), "{a:?}");
        assert!(
            a.reasons
                .iter()
                .any(|r| r.starts_with("received 1000000000000 usdc from the protocol")),
            "{a:?}"
        );
        let lost: Vec<_> = view.moves.iter().filter(|m| m.hop == 0).collect();
        assert_eq!(lost.len(), 1);
        assert_eq!(lost[0].transfer.from, w.vault.vault.to_string());

        // nothing is traced before a member confirms
        let nobody = s.recovery.scan(id, "local", exploit_block, exploit_block).await.unwrap();
        assert_eq!(nobody.moved, 0);
        assert!(
            s.recovery.decide(id, attacker, "mallory", true, None).await.is_err(),
            "not on the team"
        );
        s.recovery
            .decide(id, attacker, "alice", true, Some("drained the vault".into()))
            .await
            .unwrap();

        // attacker → X; X splits into Y and the bridge; Y → cold (hop 3); cold → beyond (hop 4)
        let (x, y) = (w.chain.dev_address(8), w.chain.dev_address(9));
        let bridge: Address = BRIDGE.parse().unwrap();
        let cold: Address = COLD.parse().unwrap();
        let from = usdc_transfer(w, 7, x, 1_000_000).await;
        usdc_transfer(w, 8, y, 600_000).await;
        usdc_transfer(w, 8, bridge, 400_000).await;
        // dust is not followed
        usdc_transfer(w, 7, w.chain.dev_address(6), 0).await;
        let to = usdc_transfer(w, 9, cold, 600_000).await;
        let found = s.recovery.scan(id, "local", from, to).await.unwrap();
        assert_eq!((found.moved, found.exits), (4, 1), "{found:?}");
        assert_eq!(
            s.recovery.scan(id, "local", from, to).await.unwrap().moved,
            0,
            "a rescan records nothing twice"
        );

        let view = s.recovery.view(id).await.unwrap();
        let hops: Vec<(u32, String, Option<String>)> = view
            .moves
            .iter()
            .filter(|m| m.hop > 0)
            .map(|m| (m.hop, m.transfer.to.clone(), m.kind.clone()))
            .collect();
        assert_eq!(
            hops,
            [
                (1, x.to_string(), None),
                (2, y.to_string(), None),
                (2, bridge.to_string(), Some("bridge".into())),
                (3, cold.to_string(), None),
            ]
        );
        // the bridge is a P1 to the recovery channel, the other moves P2
        let outbox = s.store.outbox(Some(id)).await.unwrap();
        let severities: Vec<String> =
            outbox.iter().map(|m| m.body["severity"].as_str().unwrap_or("").to_owned()).collect();
        assert_eq!(severities.iter().filter(|s| *s == "P1").count(), 1, "{severities:?}");
        let p1 = outbox.iter().find(|m| m.body["severity"] == "P1").unwrap();
        assert!(
            p1.body["title"].as_str().unwrap().contains("traced funds reached a bridge"),
            "{}",
            p1.body
        );

        // the graph shows both branches, the bridge in red
        let graph = FlowGraph::new(&view.moves, &view.confirmed());
        let svg = graph.svg("Fund flow");
        for node in [x, y, bridge, cold] {
            assert!(svg.contains(&format!("data-address=\"{node}\"")), "{node} missing:\n{svg}");
        }
        assert!(svg.contains("Portal bridge (bridge)") && svg.contains("#c92a2a"), "{svg}");
        let csv = firebreak_recover::graph::csv(&view.moves);
        assert_eq!(csv.lines().count(), 1 + 5, "header, the loss and four hops:\n{csv}");
        verify_chain(&s.store.timeline(id).await.unwrap()).unwrap();
    }

    #[tokio::test]
    async fn anvil_the_message_sent_is_exactly_the_approved_text_and_the_reply_is_read() {
        let s = setup(false, None).await;
        let w = &s.w;
        let attacker = w.chain.dev_address(7);
        let (id, _) = drain(&s, 7).await;
        s.recovery.propose(id).await.unwrap();
        assert!(
            s.recovery.draft(id, "alice", "local", None).await.is_err(),
            "nobody confirmed yet"
        );
        s.recovery.decide(id, attacker, "bob", true, None).await.unwrap();

        let d = s.recovery.draft(id, "alice", "local", None).await.unwrap();
        assert_eq!(d.to, [attacker.to_string()]);
        assert!(
            d.text.contains(RECOVERY)
                && d.text.contains("10.00 %")
                && d.text.contains("security@test.example"),
            "{}",
            d.text
        );
        // both roles must approve; one member approves once
        assert!(s.recovery.send(id, d.draft).await.is_err());
        assert!(
            s.recovery.approve(id, d.draft, "carol").await.is_err(),
            "an operator is not an approver"
        );
        assert_eq!(s.recovery.approve(id, d.draft, "alice").await.unwrap().len(), 1);
        assert!(s.recovery.approve(id, d.draft, "alice").await.is_err());
        let err = s.recovery.send(id, d.draft).await.unwrap_err().to_string();
        assert!(err.contains("still needs approval by commander"), "{err}");
        assert!(s.recovery.approve(id, d.draft, "bob").await.unwrap().is_empty());

        let sending = s.recovery.send(id, d.draft);
        let mining = async {
            w.mine_when_pending(std::time::Duration::from_secs(30)).await.unwrap();
        };
        let (sent, ()) = tokio::join!(sending, mining);
        let sent = sent.unwrap();
        assert_eq!(sent.len(), 1);
        let hash: B256 = sent[0].tx_hash.parse().unwrap();
        let tx = w.chain.provider().get_transaction_by_hash(hash).await.unwrap().unwrap();
        use alloy::consensus::Transaction as _;
        assert_eq!(
            tx.input().as_ref(),
            d.text.as_bytes(),
            "the input is exactly the approved text"
        );
        assert_eq!(tx.to(), Some(attacker));
        assert!(s.recovery.send(id, d.draft).await.is_err(), "a draft is sent once");

        // the attacker answers on chain to the recovery address
        let reply = "ok. returning 90%, keeping 10% per safe harbor";
        let (_, block) =
            send(w, 7, RECOVERY.parse().unwrap(), reply.as_bytes().to_vec(), U256::ZERO).await;
        let found = s.recovery.scan(id, "local", block - 1, block).await.unwrap();
        assert_eq!(found.messages, 1, "only the reply, not our own message: {found:?}");
        let t = s.store.timeline(id).await.unwrap();
        let e = t.iter().find(|e| e.kind() == "whitehat_message_received").unwrap();
        assert_eq!(e.body["text"], reply);
        assert_eq!(e.actor.to_string(), format!("external:{attacker}"));
        let said = firebreak_store::timeline::describe(e);
        assert!(said.contains(reply), "{said}");
        verify_chain(&t).unwrap();
    }

    #[tokio::test]
    async fn anvil_ledger_of_a_retained_bounty_in_two_installments_with_caps_and_pro_rata() {
        let s = setup(true, None).await;
        let w = &s.w;
        let hat = w.chain.dev_address(8);
        let (id, _) = drain(&s, 8).await;
        s.recovery.propose(id).await.unwrap();
        // 900,000 of the 1,000,000 back, in two installments; 100,000 kept
        let recovery: Address = RECOVERY.parse().unwrap();
        let first = usdc_transfer(w, 8, recovery, 500_000).await;
        let found = s.recovery.scan(id, "local", first, first).await.unwrap();
        assert_eq!(found.returned, 1);
        let l = s.recovery.ledger(id).await.unwrap();
        assert_eq!(
            l.settlement.whitehats[0].excess,
            usd(400_000),
            "kept beyond the bounty, so far"
        );
        let last = usdc_transfer(w, 8, recovery, 400_000).await;
        assert_eq!(s.recovery.scan(id, "local", first, last).await.unwrap().returned, 1);

        let l = s.recovery.ledger(id).await.unwrap();
        let hat_line = &l.settlement.whitehats[0];
        assert_eq!(hat_line.whitehat, hat);
        assert_eq!((hat_line.returned, hat_line.retained), (usd(900_000), usd(100_000)));
        assert_eq!(hat_line.bounty, usd(100_000));
        assert!(hat_line.satisfied(), "{hat_line:?}");
        let usdc = &l.assets[0];
        assert_eq!(usdc.lost, usdc.returned + usdc.retained + usdc.missing, "balanced");
        assert_eq!(usdc.missing, U256::ZERO);
        assert!(l.text().contains("settled"), "{}", l.text());
        // the same returns under a 50,000 USD cap: the cap binds
        let view = s.recovery.view(id).await.unwrap();
        let capped = view.ledger(&Terms {
            bounty_bps: 1_000,
            cap_usd: 50_000,
            aggregate_cap_usd: None,
            retainable: true,
        });
        assert_eq!(capped.settlement.whitehats[0].bounty, usd(50_000));
        assert_eq!(
            capped.settlement.whitehats[0].excess,
            usd(50_000),
            "kept 100,000 against a 50,000 bounty"
        );

        // a second white hat returns 500,000 (minted to it); under paid terms
        // with a 100,000 aggregate cap, both bounties shrink pro rata
        let second = w.chain.dev_address(9);
        let usdc_c = MockUSDC::new(w.vault.asset, w.chain.provider());
        let data = usdc_c.mint(second, U256::from(500_000_000_000u64)).calldata().to_vec();
        send(w, 0, w.vault.asset, data, U256::ZERO).await;
        let b = usdc_transfer(w, 9, recovery, 500_000).await;
        s.recovery.scan(id, "local", b, b).await.unwrap();
        let view = s.recovery.view(id).await.unwrap();
        let paid = view.ledger(&Terms {
            bounty_bps: 1_000,
            cap_usd: 1_000_000,
            aggregate_cap_usd: Some(100_000),
            retainable: false,
        });
        let bounties: Vec<u128> = paid.settlement.whitehats.iter().map(|w| w.bounty).collect();
        // 90,000 + 50,000 = 140,000 > 100,000: scaled by 100/140
        assert_eq!(bounties, [usd(90_000) * 100 / 140, usd(50_000) * 100 / 140]);
        assert_eq!(paid.settlement.pro_rata, Some((usd(100_000), usd(140_000))));
        assert!(paid.settlement.total <= usd(100_000));
        let t = kinds(&s, id).await;
        assert_eq!(t.iter().filter(|e| matches!(e, Event::FundsReturned(_))).count(), 3);

        // the post-mortem shows the ledger (under the terms in force) and the graph
        let pm = firebreak_report::PostMortem::load(&*s.store, id, None).await.unwrap();
        let md = pm.markdown();
        assert!(md.contains("## Recovery") && md.contains("### Ledger"), "{md}");
        assert!(md.contains("| usdc | 1000000 | 1400000 | 100000 | 0 |"), "{md}");
        assert!(
            md.contains(&format!(
                "| `{hat}` | $900,000.00 | $100,000.00 | $100,000.00 | $0.00 | $0.00 |"
            )),
            "{md}"
        );
        assert!(md.contains("![fund flow](fund-flow.svg)"), "{md}");
        let html = pm.html();
        assert!(html.contains(&format!("data-address=\"{hat}\"")), "the graph is inline");
        assert!(html.contains(&format!("data-address=\"{}\"", w.vault.vault)), "from the vault");
    }

    #[tokio::test]
    async fn anvil_a_paid_bounty_is_proposed_as_a_safe_transaction_of_the_exact_amount() {
        let s = setup(false, None).await;
        let w = &s.w;
        let hat = w.chain.dev_address(8);
        let (id, _) = drain(&s, 8).await;
        s.recovery.propose(id).await.unwrap();
        let recovery: Address = RECOVERY.parse().unwrap();
        let b = usdc_transfer(w, 8, recovery, 1_000_000).await;
        s.recovery.scan(id, "local", b, b).await.unwrap();
        let p = s.recovery.propose_bounty(id, hat).await.unwrap();
        // 10 % of 1,000,000 USDC at 1 USD: exactly 100,000 USDC
        assert_eq!(p.amount, "100000000000");
        assert_eq!(p.bounty_micro_usd, usd(100_000).to_string());
        assert_eq!(p.safe, w.safe.to_string());
        assert!(s.recovery.propose_bounty(id, hat).await.is_err(), "proposed once");
        // the hash is the Safe's own for transfer(hat, 100,000 USDC) at its nonce
        let safe = firebreak_test_utils::ISafe::new(w.safe, w.chain.provider());
        let data = transferCall { to: hat, amount: U256::from(100_000_000_000u64) }.abi_encode();
        let theirs = safe
            .getTransactionHash(
                w.vault.asset,
                U256::ZERO,
                data.into(),
                0,
                U256::ZERO,
                U256::ZERO,
                U256::ZERO,
                Address::ZERO,
                Address::ZERO,
                U256::from(p.nonce),
            )
            .call()
            .await
            .unwrap();
        assert_eq!(p.safe_tx_hash, theirs.to_string());

        // two owners sign the hash; the Safe's relayer executes it
        let usdc_c = MockUSDC::new(w.vault.asset, w.chain.provider());
        send(
            w,
            0,
            w.vault.asset,
            usdc_c.mint(w.safe, U256::from(100_000_000_000u64)).calldata().to_vec(),
            U256::ZERO,
        )
        .await;
        let hash: B256 = p.safe_tx_hash.parse().unwrap();
        let sign = |i: usize| {
            use alloy::signers::SignerSync as _;
            w.chain.dev_signer(i).sign_hash_sync(&hash).unwrap().as_bytes().to_vec()
        };
        assert!(
            s.recovery.sign_bounty(id, hash, &sign(3), "alice").await.is_err(),
            "a liaison holds no signer role"
        );
        assert!(
            s.recovery.sign_bounty(id, hash, &sign(7), "bob").await.is_err(),
            "not an owner's signature"
        );
        assert_eq!(s.recovery.sign_bounty(id, hash, &sign(3), "bob").await.unwrap(), (1, 2));
        assert!(
            s.recovery.pay_bounties(id).await.unwrap().is_empty(),
            "below the threshold nothing is sent"
        );
        assert_eq!(s.recovery.sign_bounty(id, hash, &sign(4), "carol").await.unwrap(), (2, 2));
        let erc20 = firebreak_test_utils::IERC20::new(w.vault.asset, w.chain.provider());
        let before = erc20.balanceOf(hat).call().await.unwrap();
        let paying = s.recovery.pay_bounties(id);
        let mining = async {
            w.mine_when_pending(std::time::Duration::from_secs(30)).await.unwrap();
        };
        let (paid, ()) = tokio::join!(paying, mining);
        let paid = paid.unwrap();
        assert_eq!(paid.len(), 1);
        let after = erc20.balanceOf(hat).call().await.unwrap();
        assert_eq!(after - before, U256::from(100_000_000_000u64), "exactly the bounty");
        assert!(s.recovery.pay_bounties(id).await.unwrap().is_empty(), "paid once");
        let t = kinds(&s, id).await;
        assert!(
            t.iter().any(|e| matches!(e, Event::BountyPaid(b) if b.safe_tx_hash == p.safe_tx_hash))
        );
    }

    alloy_sol_types::sol! {
        function setAnswer(int256 answer_) external;
    }

    #[tokio::test]
    async fn anvil_a_return_is_priced_by_the_feed_at_the_block_before_it() {
        let w = World::manual(Pauser::Guardian).await.unwrap();
        // a USDC/USD feed with 8 decimals at $1.00, deployed with automine on
        let p = w.chain.provider();
        let _: serde_json::Value = p.raw_request("evm_setAutomine".into(), (true,)).await.unwrap();
        let args = alloy_sol_types::SolValue::abi_encode_params(&(
            U256::from(8u8),
            alloy::primitives::I256::try_from(100_000_000i64).unwrap(),
        ));
        let feed =
            firebreak_test_utils::deploy_fixture(&w.chain, "MockPriceFeed", &args).await.unwrap();
        let _: serde_json::Value = p.raw_request("evm_setAutomine".into(), (false,)).await.unwrap();
        let s =
            setup_in(w, false, None, &format!("usdc = {{ feed = \"{feed}\" }}, eth = 2000")).await;
        let w = &s.w;
        let (id, _) = drain(&s, 8).await;
        s.recovery.propose(id).await.unwrap();
        let recovery: Address = RECOVERY.parse().unwrap();
        let answer = |usd_e8: i64| {
            setAnswerCall { answer_: alloy::primitives::I256::try_from(usd_e8).unwrap() }
                .abi_encode()
        };

        // the feed drops to $0.50; the next block's return is priced at $0.50
        send(w, 0, feed, answer(50_000_000), U256::ZERO).await;
        let first = usdc_transfer(w, 8, recovery, 100_000).await;
        // the feed moves to $2.00 in the very block of the second return:
        // that return is still priced at the block before it, $0.50
        let data =
            transferCall { to: recovery, amount: U256::from(100_000_000_000u64) }.abi_encode();
        let tx = TransactionRequest::default()
            .from(w.chain.dev_address(8))
            .to(w.vault.asset)
            .with_input(Bytes::from(data));
        let _return = w.chain.provider().send_transaction(tx).await.unwrap();
        send(w, 0, feed, answer(200_000_000), U256::ZERO).await;
        let last = w.chain.block_number().await.unwrap();
        s.recovery.scan(id, "local", first, last).await.unwrap();

        let view = s.recovery.view(id).await.unwrap();
        let priced: Vec<(u64, Option<&str>)> =
            view.returns.iter().map(|r| (r.priced_at, r.price_micro_usd.as_deref())).collect();
        assert_eq!(priced, [(first - 1, Some("500000")), (last - 1, Some("500000"))]);
        let l = s.recovery.ledger(id).await.unwrap();
        assert_eq!(l.settlement.whitehats[0].returned, usd(100_000), "200,000 USDC at $0.50");
        assert_eq!(l.settlement.whitehats[0].bounty, usd(10_000));
    }

    #[tokio::test]
    async fn anvil_the_agreements_clocks_are_set_remind_and_pass_on_the_timeline() {
        let s = setup(true, None).await;
        let (id, _) = drain(&s, 8).await;
        let opened = s.store.incident(id).await.unwrap().unwrap().opened_ms;
        let hour = 3_600_000;
        assert_eq!(
            s.recovery.clocks(id, opened).await.unwrap(),
            2,
            "return and return_retrospective set"
        );
        assert_eq!(s.recovery.clocks(id, opened + hour).await.unwrap(), 0, "nothing due yet");
        assert_eq!(
            s.recovery.clocks(id, opened + 5 * hour + hour / 2).await.unwrap(),
            1,
            "the 6-hour reminder"
        );
        assert_eq!(
            s.recovery.clocks(id, opened + 5 * hour + hour / 2).await.unwrap(),
            0,
            "reminded once"
        );
        assert_eq!(
            s.recovery.clocks(id, opened + 7 * hour).await.unwrap(),
            1,
            "the 6-hour clock passed"
        );
        // a return starts the 15-day payment and dispute clocks
        let b = usdc_transfer(&s.w, 8, RECOVERY.parse().unwrap(), 900_000).await;
        s.recovery.scan(id, "local", b, b).await.unwrap();
        assert_eq!(
            s.recovery.clocks(id, opened + 7 * hour).await.unwrap(),
            2,
            "bounty_payment and dispute set"
        );
        let view = s.recovery.view(id).await.unwrap();
        let states: Vec<(&str, &str)> =
            view.deadlines.values().map(|d| (d.clock.as_str(), d.state.as_str())).collect();
        assert_eq!(
            states,
            [
                ("bounty_payment", "set"),
                ("dispute", "set"),
                ("return", "passed"),
                ("return_retrospective", "set")
            ]
        );
        // the reminder and the expiry reached the recovery channel
        let outbox = s.store.outbox(Some(id)).await.unwrap();
        let titles: Vec<&str> = outbox.iter().filter_map(|m| m.body["title"].as_str()).collect();
        assert!(
            titles.iter().any(|t| t.contains("Safe Harbor clock `return`: reminder")),
            "{titles:?}"
        );
        assert!(
            titles.iter().any(|t| t.contains("Safe Harbor clock `return`: passed")),
            "{titles:?}"
        );
        // and the liaison (alice) in person, at her contact on the channel
        let to_alice: Vec<&str> = outbox
            .iter()
            .filter(|m| m.body["recipient"] == "https://hooks.test/alice")
            .filter_map(|m| m.body["title"].as_str())
            .collect();
        assert_eq!(to_alice.len(), 2, "the reminder and the expiry: {to_alice:?}");
    }
}
