//! A `byline serve` child process for tests: started from a prepared
//! command, its address read from its `listening on http://ADDR/` log line,
//! its log kept, killed when dropped.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The lines a child wrote to stderr so far.
pub type Log = Arc<Mutex<Vec<String>>>;

pub struct Serve {
    pub child: Child,
    /// `http://127.0.0.1:PORT`
    pub root: String,
    pub log: Log,
}

impl Serve {
    /// Wait up to 15 s for a log line `pattern` accepts.
    pub fn wait_log(&self, pattern: impl Fn(&str) -> bool) -> bool {
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_secs(15) {
            if self.log.lock().expect("log").iter().any(|l| pattern(l)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    pub fn log_text(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `byline serve --listen 127.0.0.1:0` with `args` before it (such as
/// `--config PATH`), in `dir`, logging at `rust_log`.
pub fn serve(dir: &std::path::Path, args: &[&std::ffi::OsStr], rust_log: &str) -> Serve {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_byline"));
    cmd.current_dir(dir)
        .arg("serve")
        .args(args)
        .args(["--listen", "127.0.0.1:0"])
        .env("NO_COLOR", "1")
        .env("RUST_LOG", rust_log);
    start(cmd)
}

/// Start `cmd` (a `byline serve`), wait for it to listen and for its first
/// refresh to end (it serves the store meanwhile, `/healthz` "starting").
pub fn start(mut cmd: Command) -> Serve {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("byline runs");
    let (root, log) = listening_logged(&mut child);
    wait_ready(&root);
    Serve { child, root, log }
}

/// Is the server at `root` (`http://ADDR`) answering `/healthz` with
/// something other than "starting"? One try.
pub fn ready(root: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(root.trim_start_matches("http://")) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1") && !answer.contains("\"starting\"")
}

/// Poll `/healthz` of `root` (`http://ADDR`) until it is no longer
/// "starting", at most 60 s.
pub fn wait_ready(root: &str) {
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if ready(root) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{root} still starting after 60 s");
}

/// The `http://ADDR` a starting `byline serve` listens on.
pub fn listening(child: &mut Child) -> String {
    listening_logged(child).0
}

/// [`listening`], and the child's stderr lines as they come.
pub fn listening_logged(child: &mut Child) -> (String, Log) {
    let stderr = child.stderr.take().expect("stderr");
    let log = Log::default();
    let lines = log.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let _ = tx.send(rest.trim_end().trim_end_matches('/').to_owned());
            }
            lines.lock().expect("log").push(line);
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("a `listening on` line");
    (format!("http://{addr}"), log)
}

/// GET `url` on `rt`: the body.
pub fn get(rt: &tokio::runtime::Runtime, url: &str) -> String {
    rt.block_on(async {
        reqwest::get(url)
            .await
            .expect("GET")
            .text()
            .await
            .expect("body")
    })
}

/// Poll `url` until `done(body)`, at most 30 s; the last body either way.
pub fn wait_for(rt: &tokio::runtime::Runtime, url: &str, done: impl Fn(&str) -> bool) -> String {
    let start = std::time::Instant::now();
    loop {
        let body = get(rt, url);
        if done(&body) || start.elapsed() > Duration::from_secs(30) {
            return body;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The titles of a JSON Feed's items, in order.
pub fn json_feed_titles(body: &[u8]) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not a JSON Feed ({e}): {}", String::from_utf8_lossy(body)));
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["title"].as_str().unwrap_or_default().to_owned())
        .collect()
}
