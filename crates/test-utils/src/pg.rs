//! A throwaway PostgreSQL cluster on a free loopback port, from Debian's
//! server binaries (`/usr/lib/postgresql/*/bin`), removed when dropped.
//! The test command installs the package and, when it runs as root (initdb
//! refuses root), the system user `firebreak-pg` that owns the cluster.
//! Missing binaries fail the test with the command that installs them; a
//! test never skips silently.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// The OS user that owns clusters when the tests run as root.
const OS_USER: &str = "firebreak-pg";

/// A running cluster; stopped and removed when dropped.
#[derive(Debug)]
pub struct PgCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// Connects to the cluster's database `firebreak` (user `firebreak`, no password).
    pub url: String,
    port: u16,
    as_user: bool,
}

fn bin_dir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path().join("bin"))).collect())
        .unwrap_or_default();
    found.retain(|b| b.join("initdb").is_file());
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL's server binaries are missing: run ./scripts/test.sh, which installs them (apt-get install postgresql)"
        )
    })
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl PgCluster {
    fn command(&self, program: &Path) -> Command {
        if self.as_user {
            let mut c = Command::new("runuser");
            c.args(["-u", OS_USER, "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    }

    /// Starts a cluster with a database `firebreak`; `url` connects to it.
    pub fn start() -> Self {
        let bin = bin_dir();
        let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout == b"0\n");
        if root {
            let known = Command::new("id").arg(OS_USER).output().is_ok_and(|o| o.status.success());
            assert!(
                known,
                "running as root, the cluster needs the system user `{OS_USER}` (initdb refuses root): run ./scripts/test.sh, which creates it"
            );
        }
        let dir = tempfile::Builder::new().prefix("firebreak-pg").tempdir().expect("a temp dir");
        if root {
            run(Command::new("chown").args([OS_USER]).arg(dir.path()), "chown the cluster dir");
        }
        let mut c = Self { dir, bin, url: String::new(), port: 0, as_user: root };
        let data = c.dir.path().join("data");
        run(
            c.command(&c.bin.join("initdb")).arg("-D").arg(&data).args([
                "-U",
                "firebreak",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]),
            "initdb",
        );
        // a free port is picked, then released for the server: another
        // process may take it in between, so a start that fails is tried
        // again on another port
        let mut port = 0;
        for attempt in 1..=5 {
            port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .expect("a free port");
            let opts = format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                c.dir.path().display()
            );
            let started = c
                .command(&c.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(c.dir.path().join("server.log"))
                .args(["-w", "-o", &opts, "start"])
                .output()
                .is_ok_and(|o| o.status.success());
            if started {
                break;
            }
            let log = std::fs::read_to_string(c.dir.path().join("server.log")).unwrap_or_default();
            assert!(attempt < 5, "PostgreSQL did not start:\n{log}");
        }
        run(
            c.command(&c.bin.join("createdb")).args([
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                "firebreak",
                "firebreak",
            ]),
            "createdb",
        );
        c.url = format!("postgres://firebreak@127.0.0.1:{port}/firebreak");
        c.port = port;
        c
    }

    /// The loopback port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server at once (`immediate`: like a crash, every
    /// connection is cut).
    pub fn stop(&self) {
        let data = self.dir.path().join("data");
        run(
            self.command(&self.bin.join("pg_ctl")).arg("-D").arg(&data).args([
                "-m",
                "immediate",
                "-w",
                "stop",
            ]),
            "pg_ctl stop",
        );
    }

    /// Starts the server again on the same port, with the same data.
    pub fn restart(&self) {
        let data = self.dir.path().join("data");
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            self.port,
            self.dir.path().display()
        );
        run(
            self.command(&self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(self.dir.path().join("server.log"))
                .args(["-w", "-o", &opts, "start"]),
            "pg_ctl start",
        );
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = self
            .command(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}
