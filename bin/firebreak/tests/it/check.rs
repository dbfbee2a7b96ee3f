use crate::{firebreak, stderr, stdout};

#[test]
fn example_plan_is_valid() {
    let out = firebreak(&["check", "examples/plans/acme-lending.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!(stdout(&out), @"examples/plans/acme-lending.toml: valid (0 errors, 0 warnings) — 2 chains, 5 contracts (2 pausable), 5 signers, 2 safes, 5 members, 8 channels, 10 monitors (5 P1), 6 playbooks");
    assert_eq!(stderr(&out), "");
}

#[test]
fn broken_plan_exits_2_with_positioned_errors_on_stderr() {
    let out = firebreak(&["check", "crates/plan/tests/plans/broken/multiple-mistakes.toml"]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(stdout(&out), @"crates/plan/tests/plans/broken/multiple-mistakes.toml: invalid (3 errors, 0 warnings)");
    let err = stderr(&out);
    for needle in [
        "multiple-mistakes.toml:34:13",
        "multiple-mistakes.toml:46:12",
        "multiple-mistakes.toml:73:12",
        "= help: did you mean `contain`?",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in\n{err}");
    }
}

#[test]
fn several_plans_fail_if_any_fails() {
    let out = firebreak(&[
        "check",
        "examples/plans/acme-lending.toml",
        "crates/plan/tests/plans/broken/unknown-role.toml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out).lines().count(), 2);
}

#[test]
fn json_output_is_machine_readable() {
    let out = firebreak(&[
        "check",
        "--json",
        "examples/plans/acme-lending.toml",
        "crates/plan/tests/plans/broken/threshold-exceeds-owners.toml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v[0]["valid"], true);
    assert_eq!(v[1]["valid"], false);
    assert_eq!(v[1]["diagnostics"][0]["code"], "threshold-exceeds-owners");
    assert_eq!(v[1]["diagnostics"][0]["line"], 34);
    assert_eq!(stderr(&out), "");
}

#[test]
fn strict_fails_on_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("warn.toml");
    std::fs::write(
        &plan,
        "version = 1\n[protocol]\nname = \"W\"\n[chains.local]\nid = 31337\nrpc = [\"http://127.0.0.1:8545\"]\n",
    )
    .unwrap();
    let path = plan.to_str().unwrap();
    let out = firebreak(&["check", path]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("warning[single-rpc]"), "{}", stderr(&out));
    let out = firebreak(&["check", "--strict", path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).contains("invalid under --strict"));
}

#[test]
fn secrets_flag_resolves_references() {
    let out = firebreak(&["check", "--secrets", "examples/plans/acme-lending.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(
            "error[secret-unresolved]: environment variable `ACME_GUARDIAN_KEY` is not set"
        ),
        "{err}"
    );
    assert!(err.contains("= help: export ACME_GUARDIAN_KEY=…"), "{err}");
}

#[test]
fn secrets_flag_detects_a_key_for_the_wrong_address() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("p.toml");
    std::fs::write(
        &plan,
        "version = 1\n[protocol]\nname = \"K\"\n[chains.local]\nid = 31337\nrpc = [\"ws://127.0.0.1:8545\", \"http://127.0.0.1:8545\"]\n\
         [signers.g]\nenv = \"FB_TEST_KEY\"\naddress = \"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\"\n",
    )
    .unwrap();
    // anvil dev key 0 (public): its address is 0xf39F…, not account 1's
    let key = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_firebreak"))
        .args(["check", "--secrets", plan.to_str().unwrap()])
        .env("FB_TEST_KEY", key)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("error[signer-mismatch]"), "{err}");
    assert!(err.contains("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"), "{err}");
    assert!(!err.contains(&key[2..]), "the key must never be printed: {err}");
}

#[test]
fn missing_file_is_a_runtime_error() {
    let out = firebreak(&["check", "no/such/plan.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot check `no/such/plan.toml`"), "{}", stderr(&out));
}

#[test]
fn a_device_a_directory_or_a_huge_file_is_refused_at_once_with_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.toml");
    // one byte over the 4 MiB limit, sparse: nothing is written
    std::fs::File::create(&huge).unwrap().set_len(4 * 1024 * 1024 + 1).unwrap();
    let cases = [
        ("/dev/zero".to_owned(), "it is a character device, not a regular file"),
        (dir.path().display().to_string(), "it is a directory, not a regular file"),
        (huge.display().to_string(), "it is 4194305 bytes, over the limit of 4194304 bytes"),
    ];
    for (path, why) in cases {
        let out = firebreak(&["check", &path]);
        assert_eq!(out.status.code(), Some(2), "{path}: {}", stderr(&out));
        assert!(stderr(&out).contains(why), "{path}: {}", stderr(&out));
    }
}

#[test]
fn an_abi_or_secret_file_that_is_a_device_is_a_positioned_error() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("p.toml");
    std::fs::write(
        &plan,
        "version = 1\n[protocol]\nname = \"K\"\n[chains.local]\nid = 31337\nrpc = [{ file = \"/dev/urandom\" }]\n\
         [contracts.vault]\nchain = \"local\"\naddress = \"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\"\nabi = { file = \"/dev/zero\" }\n",
    )
    .unwrap();
    let out = firebreak(&["check", "--secrets", plan.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("cannot read ABI `/dev/zero`: it is a character device"), "{err}");
    assert!(
        err.contains("cannot read secret file `/dev/urandom`: it is a character device"),
        "{err}"
    );
}

#[test]
fn a_keystore_path_that_is_a_directory_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("keys")).unwrap();
    let plan = dir.path().join("p.toml");
    std::fs::write(
        &plan,
        "version = 1\n[protocol]\nname = \"K\"\n[chains.local]\nid = 31337\nrpc = [\"http://127.0.0.1:8545\", \"http://127.0.0.1:8546\"]\n\
         [signers.g]\nkeystore = \"keys\"\npassword = { env = \"FB_TEST_PW\" }\naddress = \"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_firebreak"))
        .args(["check", "--secrets", plan.to_str().unwrap()])
        .env("FB_TEST_PW", "pw")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("keystore file `keys` is not usable: it is a directory, not a regular file"),
        "{err}"
    );
}

/// `check --secrets` opens each keystore as `run` will: a wrong password, a
/// file that is not a keystore, or a key of another address fail the check
/// (they used to pass, and the pause failed at the exploit).
#[test]
fn secrets_flag_decrypts_keystores_and_checks_their_address() {
    let dir = tempfile::tempdir().unwrap();
    let key = alloy::signers::local::PrivateKeySigner::from_bytes(&alloy::primitives::b256!(
        "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
    ))
    .unwrap();
    let _ = alloy::signers::local::PrivateKeySigner::encrypt_keystore(
        dir.path(),
        &mut rand::thread_rng(),
        key.credential().to_bytes(),
        "right password",
        Some("guardian.json"),
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.json"), "{\"hello\": 1}").unwrap();
    let plan = |keystore: &str, address: &str| {
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            format!(
                "version = 1\n[protocol]\nname = \"K\"\n[chains.local]\nid = 31337\nrpc = [\"http://127.0.0.1:8545\", \"http://127.0.0.1:8546\"]\n\
                 [signers.g]\nkeystore = \"{keystore}\"\npassword = {{ env = \"FB_TEST_PW\" }}\naddress = \"{address}\"\n"
            ),
        )
        .unwrap();
        path
    };
    let check = |path: &std::path::Path, password: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_firebreak"))
            .args(["check", "--secrets", path.to_str().unwrap()])
            .env("FB_TEST_PW", password)
            .output()
            .unwrap()
    };
    let right = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"; // dev account 1
    let other = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"; // dev account 2
    let out = check(&plan("guardian.json", right), "right password");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let out = check(&plan("guardian.json", right), "wrong password");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("error[secret-unresolved]: signer `g`: cannot decrypt keystore"), "{err}");
    assert!(!err.contains("wrong password"), "the password must never be printed: {err}");

    let out = check(&plan("notes.json", right), "right password");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot decrypt keystore"), "{}", stderr(&out));

    let out = check(&plan("guardian.json", other), "right password");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("error[signer-mismatch]"), "{err}");
    assert!(err.contains(right), "names the address the keystore holds: {err}");
}
