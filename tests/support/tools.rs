//! External programs that some tests drive, from Debian's packages (jing,
//! chromium, chromedriver). A *tool* is a program found on `PATH`: without
//! it, `cargo test` on a fresh machine skips the test and says so on
//! stderr, once per program, with the package to install; with `CI` set a
//! missing tool fails the test instead, since CI must run every check
//! (`.ci/run` installs them).
#![allow(dead_code)]

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

/// Is `program` (from Debian's `package`) on `PATH`? If not: panic under
/// CI, else say once that the tests needing it were skipped.
pub fn require(program: &str, package: &str) -> bool {
    if find(program).is_some() {
        return true;
    }
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!(
            "`{program}` is required for the tests when CI is set, but it is not on PATH: \
             apt-get install -y {package} (.ci/run installs it)"
        );
    }
    static SAID: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let mut said = SAID.lock().unwrap_or_else(|e| e.into_inner());
    if said
        .get_or_insert_with(HashSet::new)
        .insert(program.to_owned())
    {
        // Not eprintln!: the harness captures that and shows it only for
        // failing tests, which would make the skip silent.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: the tests that run `{program}` (not on PATH); to run them, \
             `apt-get install -y {package}` (`.ci/run` installs it, and fails without it)"
        );
    }
    false
}

/// `program`'s path on `PATH`, if it is there and executable.
fn find(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}
