//! Throwaway PostgreSQL for tests. A *cluster* here means one running
//! PostgreSQL server (a data directory plus the postmaster serving it) that
//! the tests of one process share: either the server named by
//! `BYLINE_TEST_PG_URL`, or one this module starts once per test process
//! with `initdb`/`pg_ctl` in a fresh temporary directory, on a free port of
//! 127.0.0.1, with trust authentication and durability switched off. Each
//! test takes its own empty database from it ([`database`]). A detached
//! watchdog stops the cluster and removes its directory as soon as the test
//! process is gone, since the test harness has no global teardown.
#![allow(dead_code)]

use std::io::{ErrorKind, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Once, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where Debian's `postgresql-15` package puts the server binaries.
const DEFAULT_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A running PostgreSQL server the tests may create databases on.
pub struct Cluster {
    /// `postgres://USER@127.0.0.1:PORT`, without a database name.
    pub url_base: String,
    /// The `psql` client to talk to it with.
    pub psql: PathBuf,
    /// The temporary directory of a cluster this process started (data in
    /// `data/`, server log in `log`, the socket); `None` for
    /// `BYLINE_TEST_PG_URL`.
    pub dir: Option<PathBuf>,
    /// The PEM file of the CA that signed the server's TLS certificate (for
    /// `localhost` and 127.0.0.1), and of a CA that did not; `None` for
    /// `BYLINE_TEST_PG_URL`.
    pub ca: Option<PathBuf>,
    pub other_ca: Option<PathBuf>,
    /// A client certificate and key, signed by `ca`, for the user
    /// [`CERT_USER`] (the server takes certificates from `ca`).
    pub client_cert: Option<(PathBuf, PathBuf)>,
}

/// The user named in the client certificate of [`Cluster::client_cert`].
pub const CERT_USER: &str = "byline_cert";

/// The throwaway cluster of this test process, started once (std::sync::OnceLock); None when PostgreSQL is not available and CI is not set.
pub fn cluster() -> Option<&'static Cluster> {
    // A failed start is remembered, so every test reports the same error
    // instead of each one trying (and failing) to start its own server.
    static CLUSTER: OnceLock<Result<Option<Cluster>, String>> = OnceLock::new();
    match CLUSTER.get_or_init(|| {
        std::panic::catch_unwind(start).map_err(|panic| {
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "starting PostgreSQL panicked".to_string())
        })
    }) {
        Ok(cluster) => cluster.as_ref(),
        Err(message) => panic!("{message}"),
    }
}

/// Shorthand used by tests: the url of a fresh database, or None after printing (eprintln) one clear line saying the PostgreSQL tests were skipped and how to run them.
pub fn database(prefix: &str) -> Option<String> {
    match cluster() {
        Some(cluster) => Some(cluster.fresh_database(prefix)),
        None => {
            static SKIPPED: Once = Once::new();
            SKIPPED.call_once(|| {
                // Not eprintln!: the test harness captures that and shows it
                // only for failing tests, which would make the skip silent.
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED: PostgreSQL tests (no PostgreSQL 15 in {}); to run them, \
                     `apt-get install postgresql-15` (or set BYLINE_PG_BIN to its bin dir), \
                     or set BYLINE_TEST_PG_URL=postgres://USER@HOST:PORT",
                    bin_dir().display()
                );
            });
            None
        }
    }
}

impl Cluster {
    /// A new empty database with a unique name (prefix + counter + pid), created with `createdb` or psql; returns its url `postgres://USER@127.0.0.1:PORT/NAME`.
    pub fn fresh_database(&self, prefix: &str) -> String {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut clean: String = prefix
            .chars()
            .map(|c| match c.to_ascii_lowercase() {
                c @ ('a'..='z' | '0'..='9' | '_') => c,
                _ => '_',
            })
            .collect();
        // Identifiers longer than 63 bytes are truncated by the server, which
        // could make two names collide; keep room for the suffix.
        clean.truncate(36);
        if clean.is_empty() {
            clean.push_str("test");
        }
        let name = format!("{clean}_{n}_{}", std::process::id());
        // Connect to `postgres`, not `template1`: CREATE DATABASE copies
        // template1 and fails while anyone else is connected to it.
        let output = Command::new(&self.psql)
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(format!("{}/postgres", self.url_base))
            .arg("-c")
            .arg(format!("CREATE DATABASE \"{name}\""))
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", self.psql.display()));
        check(
            &output,
            &format!("creating database {name} on {}", self.url_base),
        );
        format!("{}/{name}", self.url_base)
    }
}

/// `BYLINE_PG_BIN`, else the Debian location of PostgreSQL 15.
fn bin_dir() -> PathBuf {
    match std::env::var_os("BYLINE_PG_BIN") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(DEFAULT_BIN),
    }
}

fn ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

fn start() -> Option<Cluster> {
    let bin = bin_dir();
    if let Some(url) = std::env::var("BYLINE_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        let psql = bin.join("psql");
        let psql = if psql.is_file() {
            psql
        } else {
            PathBuf::from("psql")
        };
        return Some(Cluster {
            url_base: url.trim_end_matches('/').to_string(),
            psql,
            dir: None,
            ca: None,
            other_ca: None,
            client_cert: None,
        });
    }
    let missing: Vec<&str> = ["initdb", "pg_ctl", "psql"]
        .into_iter()
        .filter(|tool| !bin.join(tool).is_file())
        .collect();
    if !missing.is_empty() {
        if ci() {
            panic!(
                "PostgreSQL 15 is required for the tests when CI is set, but {} not in {}: \
                 install it (`apt-get install postgresql-15`), set BYLINE_PG_BIN to its bin dir, \
                 or set BYLINE_TEST_PG_URL=postgres://USER@HOST:PORT to a server where USER may \
                 create databases",
                missing.join(", ") + if missing.len() == 1 { " is" } else { " are" },
                bin.display()
            );
        }
        return None;
    }
    Some(start_local(&bin))
}

/// How to run initdb/pg_ctl: as ourselves, or (initdb refuses root) as the
/// `postgres` user.
#[derive(Clone, Copy)]
enum RunAs {
    Me,
    Runuser,
    Su,
}

impl RunAs {
    fn detect() -> RunAs {
        if !is_root() {
            return RunAs::Me;
        }
        let user = Command::new("id")
            .args(["-u", "postgres"])
            .output()
            .expect("running `id -u postgres`");
        if !user.status.success() {
            panic!(
                "tests run as root, initdb refuses root, and there is no `postgres` user to run \
                 it as (create one, run the tests as another user, or set BYLINE_TEST_PG_URL): {}",
                String::from_utf8_lossy(&user.stderr).trim()
            );
        }
        if find_program("runuser").is_some() {
            RunAs::Runuser
        } else {
            RunAs::Su
        }
    }

    fn command(self, program: &Path, args: &[String]) -> Command {
        match self {
            RunAs::Me => {
                let mut cmd = Command::new(program);
                cmd.args(args);
                cmd
            }
            RunAs::Runuser => {
                let mut cmd = Command::new(find_program("runuser").expect("runuser disappeared"));
                cmd.args(["-u", "postgres", "--"]).arg(program).args(args);
                cmd
            }
            RunAs::Su => {
                let mut cmd = Command::new("su");
                cmd.args([
                    "postgres",
                    "-s",
                    "/bin/sh",
                    "-c",
                    &self.shell(program, args),
                ]);
                cmd
            }
        }
    }

    /// The same command as one `sh` command line (for the watchdog).
    fn shell(self, program: &Path, args: &[String]) -> String {
        let line: Vec<String> = std::iter::once(program.display().to_string())
            .chain(args.iter().cloned())
            .map(|a| shell_quote(&a))
            .collect();
        let line = line.join(" ");
        match self {
            RunAs::Me => line,
            RunAs::Runuser => format!(
                "{} -u postgres -- {line}",
                shell_quote(
                    &find_program("runuser")
                        .expect("runuser disappeared")
                        .display()
                        .to_string()
                )
            ),
            RunAs::Su => format!("su postgres -s /bin/sh -c {}", shell_quote(&line)),
        }
    }
}

fn start_local(bin: &Path) -> Cluster {
    let run_as = RunAs::detect();
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    // Short on purpose: the socket path DIR/.s.PGSQL.PORT must fit in 107 bytes.
    let dir = std::env::temp_dir().join(format!("byline-pg-{}-{stamp:x}", std::process::id()));
    std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    let data = dir.join("data");
    let log = dir.join("log");
    let d = |p: &Path| p.display().to_string();

    // Spawned before anything can fail, so a panic below (or a killed
    // process) still leaves nothing behind.
    spawn_watchdog(run_as, bin, &dir);

    if !matches!(run_as, RunAs::Me) {
        let output = Command::new("chown")
            .arg("postgres")
            .arg(&dir)
            .output()
            .expect("running chown");
        check(&output, &format!("chown postgres {}", dir.display()));
    }

    let initdb: Vec<String> = vec![
        "-D".into(),
        d(&data),
        "-A".into(),
        "trust".into(),
        "-U".into(),
        "postgres".into(),
        "--no-sync".into(),
        "-E".into(),
        "UTF8".into(),
        "--locale=C".into(),
    ];
    let output = run_as
        .command(&bin.join("initdb"), &initdb)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .expect("running initdb");
    check(
        &output,
        &format!(
            "initdb in {} (as {}; the postgres user must be able to reach that directory, \
             see TMPDIR)",
            dir.display(),
            if matches!(run_as, RunAs::Me) {
                "this user"
            } else {
                "postgres"
            }
        ),
    );

    let tls = write_tls(run_as, &dir);

    // A free port can be taken by someone else between our probe and the
    // server's bind; retry with another one in that case.
    for attempt in 1..=3 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("binding 127.0.0.1:0 to find a free port")
            .port();
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
             -c ssl=on -c ssl_cert_file={} -c ssl_key_file={} -c ssl_ca_file={}",
            d(&dir),
            d(&tls.cert),
            d(&tls.key),
            d(&tls.ca),
        );
        let args: Vec<String> = vec![
            "-D".into(),
            d(&data),
            "-l".into(),
            d(&log),
            "-w".into(),
            "-t".into(),
            "60".into(),
            "-o".into(),
            options,
            "start".into(),
        ];
        let output = run_as
            .command(&bin.join("pg_ctl"), &args)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .output()
            .expect("running pg_ctl start");
        if output.status.success() {
            return Cluster {
                url_base: format!("postgres://postgres@127.0.0.1:{port}"),
                psql: bin.join("psql"),
                dir: Some(dir),
                ca: Some(tls.ca),
                other_ca: Some(tls.other_ca),
                client_cert: Some((tls.client_cert, tls.client_key)),
            };
        }
        let log_text = std::fs::read_to_string(&log)
            .unwrap_or_else(|e| format!("(could not read {}: {e})", log.display()));
        if attempt < 3 && log_text.contains("could not bind") {
            continue;
        }
        panic!(
            "pg_ctl start failed ({}): {}{}\n--- {} ---\n{log_text}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            log.display()
        );
    }
    unreachable!("the last attempt returns or panics")
}

/// The files of the cluster's TLS, in its directory.
struct TlsFiles {
    cert: PathBuf,
    key: PathBuf,
    ca: PathBuf,
    other_ca: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

/// A test CA, the server's certificate it signs for `localhost` and
/// 127.0.0.1 with its key (readable by the server's user only, as
/// PostgreSQL demands), a client certificate it signs for [`CERT_USER`],
/// and a second CA that signs nothing.
fn write_tls(run_as: RunAs, dir: &Path) -> TlsFiles {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    };
    use std::os::unix::fs::PermissionsExt;
    let ca = |name: &str| {
        let key = KeyPair::generate().expect("a CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.self_signed(&key).expect("a CA certificate");
        (cert.pem(), Issuer::new(params, key))
    };
    let (ca_pem, issuer) = ca("byline test CA");
    let (other_pem, _) = ca("another test CA");
    let key = KeyPair::generate().expect("a server key");
    let cert = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("server params")
        .signed_by(&key, &issuer)
        .expect("a server certificate");
    let client_key = KeyPair::generate().expect("a client key");
    let mut client = CertificateParams::new(Vec::<String>::new()).expect("client params");
    client
        .distinguished_name
        .push(DnType::CommonName, CERT_USER);
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client = client
        .signed_by(&client_key, &issuer)
        .expect("a client certificate");
    let files = TlsFiles {
        cert: dir.join("server.crt"),
        key: dir.join("server.key"),
        ca: dir.join("ca.pem"),
        other_ca: dir.join("other-ca.pem"),
        client_cert: dir.join("client.crt"),
        client_key: dir.join("client.key"),
    };
    for (path, text) in [
        (&files.cert, cert.pem()),
        (&files.key, key.serialize_pem()),
        (&files.ca, ca_pem),
        (&files.other_ca, other_pem),
        (&files.client_cert, client.pem()),
        (&files.client_key, client_key.serialize_pem()),
    ] {
        std::fs::write(path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }
    std::fs::set_permissions(&files.key, std::fs::Permissions::from_mode(0o600))
        .expect("chmod 600 the server key");
    if !matches!(run_as, RunAs::Me) {
        let output = Command::new("chown")
            .arg("postgres")
            .arg(&files.cert)
            .arg(&files.key)
            .output()
            .expect("running chown");
        check(&output, "chown postgres the server certificate and key");
    }
    files
}

/// A detached `sh` that waits for this process to end, then stops the
/// cluster in `dir` and removes `dir`.
#[allow(
    clippy::zombie_processes,
    reason = "the watchdog must outlive this process, so it is never waited for"
)]
fn spawn_watchdog(run_as: RunAs, bin: &Path, dir: &Path) {
    use std::os::unix::process::CommandExt;
    let dir_s = dir.display().to_string();
    let stop = run_as.shell(
        &bin.join("pg_ctl"),
        &[
            "-D".into(),
            format!("{dir_s}/data"),
            "-m".into(),
            "immediate".into(),
            "stop".into(),
        ],
    );
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; \
         if [ -f {pidfile} ]; then {stop}; fi; rm -rf {dir}",
        pid = std::process::id(),
        pidfile = shell_quote(&format!("{dir_s}/data/postmaster.pid")),
        dir = shell_quote(&dir_s),
    );
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("spawning the PostgreSQL cleanup watchdog (sh)");
}

/// Panic with `what`, the exit status and stderr unless `output` succeeded.
fn check(output: &Output, what: &str) {
    if !output.status.success() {
        panic!(
            "{what} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Effective uid 0, from /proc/self/status (`Uid: real effective ...`),
/// else from `id -u`.
fn is_root() -> bool {
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(line) = status.lines().find(|l| l.starts_with("Uid:"))
        && let Some(euid) = line.split_whitespace().nth(2)
    {
        return euid == "0";
    }
    match Command::new("id").arg("-u").output() {
        Ok(out) => String::from_utf8_lossy(&out.stdout).trim() == "0",
        Err(e) if e.kind() == ErrorKind::NotFound => false,
        Err(e) => panic!("running `id -u`: {e}"),
    }
}

/// `name` in PATH, or in the sbin directories PATH often lacks.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}
