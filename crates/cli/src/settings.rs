//! `firebreak run`'s settings, in layers: built-in defaults, then a
//! settings file (`--config FILE` or `$FIREBREAK_CONFIG`, TOML), then
//! `FIREBREAK_*` environment variables, then the command line. Each layer
//! overrides the one before, key by key (figment, as foundry does).

use std::{net::SocketAddr, time::Duration};

use figment::{
    Figment,
    providers::{Env, Format as _, Serialized, Toml},
};
use serde::{Deserialize, Serialize};

use crate::args::{LogFormat, RunArgs};

/// The keys a settings file or `FIREBREAK_<KEY>` may set.
pub(crate) const KEYS: &[&str] = &[
    "listen",
    "no_listen",
    "public_url",
    "secure_cookies",
    "behind_proxy",
    "max_connections",
    "rpc_timeout",
    "poll",
    "window",
    "log_format",
    "json",
    "allow_unready",
    "metrics_listen",
    "lease_time",
];

/// Everything `firebreak run` can be told besides the plan, the store and
/// the chains to watch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunSettings {
    pub(crate) listen: SocketAddr,
    pub(crate) no_listen: bool,
    pub(crate) public_url: Option<String>,
    pub(crate) secure_cookies: bool,
    pub(crate) behind_proxy: bool,
    pub(crate) max_connections: u16,
    #[serde(with = "duration_text")]
    pub(crate) rpc_timeout: Duration,
    #[serde(with = "duration_text")]
    pub(crate) poll: Duration,
    #[serde(with = "duration_text")]
    pub(crate) window: Duration,
    pub(crate) log_format: LogFormat,
    pub(crate) json: bool,
    pub(crate) allow_unready: bool,
    pub(crate) metrics_listen: Option<SocketAddr>,
    #[serde(default, with = "opt_duration_text")]
    pub(crate) lease_time: Option<Duration>,
}

impl Default for RunSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8787)),
            no_listen: false,
            public_url: None,
            secure_cookies: false,
            behind_proxy: false,
            max_connections: 512,
            rpc_timeout: Duration::from_secs(10),
            poll: Duration::from_millis(250),
            window: Duration::from_secs(3600),
            log_format: LogFormat::Text,
            json: false,
            allow_unready: false,
            metrics_listen: None,
            lease_time: None,
        }
    }
}

/// Durations as people write them (`250ms`, `10s`, `1h`).
mod duration_text {
    use std::time::Duration;

    use serde::{Deserialize as _, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&humantime::format_duration(*d))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        firebreak_plan::parse_duration(&text)
            .map_err(|e| serde::de::Error::custom(format!("`{text}` is not a duration: {e}")))
    }
}

/// Optional durations, as people write them.
mod opt_duration_text {
    use std::time::Duration;

    use serde::{Deserialize as _, Deserializer, Serializer};

    #[allow(clippy::ref_option)] // serde's `with` passes a reference to the field
    pub(super) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.collect_str(&humantime::format_duration(*d)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else { return Ok(None) };
        firebreak_plan::parse_duration(&text)
            .map(Some)
            .map_err(|e| serde::de::Error::custom(format!("`{text}` is not a duration: {e}")))
    }
}

/// The flags given on the command line, as a layer: only what was typed.
fn flags(args: &RunArgs) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    let mut put = |k: &str, v: serde_json::Value| {
        m.insert(k.to_owned(), v);
    };
    let text = |d: Duration| serde_json::Value::String(humantime::format_duration(d).to_string());
    if let Some(v) = args.listen {
        put("listen", v.to_string().into());
    }
    if let Some(v) = &args.public_url {
        put("public_url", v.clone().into());
    }
    if let Some(v) = args.max_connections {
        put("max_connections", v.into());
    }
    if let Some(v) = args.rpc_timeout {
        put("rpc_timeout", text(v));
    }
    if let Some(v) = args.lease_time {
        put("lease_time", text(v));
    }
    if let Some(v) = args.poll {
        put("poll", text(v));
    }
    if let Some(v) = args.window {
        put("window", text(v));
    }
    if let Some(v) = args.log_format {
        put("log_format", serde_json::to_value(v).unwrap_or_default());
    }
    if let Some(v) = args.metrics_listen {
        put("metrics_listen", v.to_string().into());
    }
    // a switch on the command line turns its setting on; absent, it leaves
    // the file's or the environment's
    for (k, on) in [
        ("no_listen", args.no_listen),
        ("secure_cookies", args.secure_cookies),
        ("behind_proxy", args.behind_proxy),
        ("json", args.json),
        ("allow_unready", args.allow_unready),
    ] {
        if on {
            put(k, true.into());
        }
    }
    m
}

/// The settings in force: defaults < file < `FIREBREAK_*` < flags.
///
/// # Errors
/// A file that cannot be read or parsed, or a value of the wrong kind in any
/// layer, named with its key and where it came from.
pub(crate) fn run_settings(args: &RunArgs) -> eyre::Result<RunSettings> {
    let mut figment = Figment::from(Serialized::defaults(RunSettings::default()));
    if let Some(path) = &args.config {
        if !path.is_file() {
            eyre::bail!(
                "settings file {} does not exist or is not a file (--config / $FIREBREAK_CONFIG)",
                path.display()
            );
        }
        figment = figment.merge(Toml::file_exact(path));
    }
    figment = figment
        .merge(Env::prefixed("FIREBREAK_").only(KEYS))
        .merge(Serialized::globals(flags(args)));
    let s: RunSettings = figment.extract().map_err(|e| {
        eyre::eyre!("settings: {e}; keys are {} (see `firebreak run --help`)", KEYS.join(", "))
    })?;
    if s.max_connections == 0 {
        eyre::bail!("settings: `max_connections` must be at least 1");
    }
    if s.rpc_timeout.is_zero() {
        eyre::bail!("settings: `rpc_timeout` must be above zero");
    }
    Ok(s)
}

/// The settings as a TOML file would say them (for `--print-settings`).
pub(crate) fn to_toml(s: &RunSettings) -> String {
    toml_lines(&serde_json::to_value(s).unwrap_or_default())
}

fn toml_lines(v: &serde_json::Value) -> String {
    let mut out = String::new();
    if let Some(map) = v.as_object() {
        for (k, v) in map {
            match v {
                serde_json::Value::Null => out.push_str(&format!("# {k} = (none)\n")),
                other => out.push_str(&format!("{k} = {other}\n")),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    fn args(extra: &[&str]) -> RunArgs {
        let mut argv = vec!["firebreak", "run", "plan.toml"];
        argv.extend_from_slice(extra);
        match crate::args::Cli::try_parse_from(argv).expect("valid arguments").command {
            crate::args::Command::Run(a) => a,
            _ => unreachable!("a run command"),
        }
    }

    #[test]
    fn each_layer_overrides_the_one_before_key_by_key() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "firebreak.toml",
                "listen = \"127.0.0.1:9000\"\npoll = \"1s\"\nmax_connections = 64\nbehind_proxy = true\n",
            )?;
            let file = jail.directory().join("firebreak.toml");
            let file = file.to_str().unwrap_or_default();
            // defaults alone
            let s = run_settings(&args(&[])).expect("defaults");
            assert_eq!(s, RunSettings::default());
            // the file over the defaults
            let s = run_settings(&args(&["--config", file])).expect("file");
            assert_eq!(s.listen.port(), 9000);
            assert_eq!(s.poll, Duration::from_secs(1));
            assert_eq!(s.max_connections, 64);
            assert!(s.behind_proxy);
            assert_eq!(s.window, Duration::from_secs(3600), "untouched keys keep the default");
            // the environment over the file
            jail.set_env("FIREBREAK_LISTEN", "127.0.0.1:9100");
            jail.set_env("FIREBREAK_WINDOW", "2h");
            let s = run_settings(&args(&["--config", file])).expect("env");
            assert_eq!(s.listen.port(), 9100);
            assert_eq!(s.window, Duration::from_secs(7200));
            assert_eq!(s.poll, Duration::from_secs(1), "the file still sets what env does not");
            // flags over everything
            let s = run_settings(&args(&["--config", file, "--listen", "127.0.0.1:9200"]))
                .expect("flags");
            assert_eq!(s.listen.port(), 9200);
            assert_eq!(s.max_connections, 64);
            Ok(())
        });
    }

    #[test]
    fn a_bad_value_names_its_key_and_where_it_came_from() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "poll = \"soon\"\n")?;
            let file = jail.directory().join("bad.toml");
            let err = run_settings(&args(&["--config", file.to_str().unwrap_or_default()]))
                .expect_err("not a duration")
                .to_string();
            assert!(err.contains("`soon` is not a duration"), "{err}");
            assert!(err.contains("poll") && err.contains("bad.toml"), "{err}");
            jail.create_file("typo.toml", "lissten = \"127.0.0.1:1\"\n")?;
            let file = jail.directory().join("typo.toml");
            let err = run_settings(&args(&["--config", file.to_str().unwrap_or_default()]))
                .expect_err("unknown key")
                .to_string();
            assert!(err.contains("lissten"), "{err}");
            jail.set_env("FIREBREAK_MAX_CONNECTIONS", "lots");
            let err = run_settings(&args(&[])).expect_err("not a number").to_string();
            assert!(err.contains("max_connections") && err.contains("FIREBREAK_"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn the_example_settings_file_reads() {
        figment::Jail::expect_with(|_| {
            let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/run/firebreak.toml");
            let s = run_settings(&args(&["--config", file])).expect("the example reads");
            assert_eq!(s.log_format, LogFormat::Json);
            assert_eq!(s.metrics_listen.map(|a| a.port()), Some(9464));
            Ok(())
        });
    }
}
