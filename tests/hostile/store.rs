//! A store that is damaged or read-only: reported, and what it holds is
//! still served.

use super::*;

/// Garbage in the middle of the store file: `/healthz` fails and says what
/// to do to keep the history, rather than "ok" with nothing served.
#[test]
fn a_damaged_store_is_not_healthy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut dump = String::from("May 21, 2022\n\n\nLatest news\n\n");
    for n in 0..400 {
        dump.push_str(&format!(
            "Story number {n} with a title long enough\n\nIts summary, which says a little more about story {n}.\n\nMina Park May 20, 2022\n\n"
        ));
    }
    std::fs::write(dir.path().join("page.txt"), dump).expect("page");
    config(
        dir.path(),
        "[server]\nrefresh_interval_secs = 0\n[[source]]\nname = \"saved\"\nkind = \"text\"\ninputs = [\"page.txt\"]\n",
    );
    let refresh = Command::new(env!("CARGO_BIN_EXE_byline"))
        .current_dir(dir.path())
        .arg("refresh")
        .output()
        .expect("refresh");
    assert!(refresh.status.success(), "{refresh:?}");
    let db = dir.path().join("byline.db");
    let mut bytes = std::fs::read(&db).expect("store");
    assert!(bytes.len() > 64 * 1024, "{} bytes", bytes.len());
    let middle = bytes.len() / 2;
    for b in &mut bytes[middle..middle + 16 * 1024] {
        *b = 0xA5;
    }
    std::fs::write(&db, &bytes).expect("damage");

    let server = serve(dir.path());
    let client = reqwest::Client::new();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut last = String::new();
    for _ in 0..50 {
        let (code, body) = rt.block_on(async {
            let r = client
                .get(format!("{}/healthz", server.root))
                .send()
                .await
                .expect("healthz");
            (r.status().as_u16(), r.text().await.unwrap_or_default())
        });
        if code == 503 && body.contains("damaged") {
            assert!(body.contains("\"status\": \"failing\""), "{body}");
            assert!(
                body.contains(".recover"),
                "says how to keep the history: {body}"
            );
            return;
        }
        last = format!("{code} {body}");
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("healthz never said the store is damaged: {last}");
}

/// Makes a file immutable (`chattr +i`: even root cannot write it) until
/// dropped.
struct Immutable(std::path::PathBuf);

impl Immutable {
    fn new(path: &Path) -> Immutable {
        let status = Command::new("chattr")
            .arg("+i")
            .arg(path)
            .status()
            .expect("chattr runs (e2fsprogs; .ci/run installs it)");
        assert!(status.success(), "chattr +i {}", path.display());
        Immutable(path.to_path_buf())
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

/// A store that cannot be written is still served: its stories stay in
/// the feeds, and each refresh is reported as failing to store.
#[test]
fn a_read_only_store_is_served_and_refreshes_report_failing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("page.txt");
    std::fs::write(
        &page,
        "May 21, 2022\n\n\nLatest news\n\nA story kept in a read-only store\n\nIts summary here.\n\nMina Park May 20, 2022\n",
    )
    .expect("page");
    config(
        dir.path(),
        "[server]\nrefresh_interval_secs = 0\n[[source]]\nname = \"saved\"\nkind = \"text\"\ninputs = [\"page.txt\"]\n",
    );
    let refresh = Command::new(env!("CARGO_BIN_EXE_byline"))
        .current_dir(dir.path())
        .arg("refresh")
        .output()
        .expect("refresh");
    assert!(refresh.status.success(), "{refresh:?}");
    // A new version of the page, which the store cannot take.
    std::fs::write(
        &page,
        "May 22, 2022\n\n\nLatest news\n\nA newer story the store cannot take\n\nIts summary here.\n\nMina Park May 21, 2022\n",
    )
    .expect("page");
    let _frozen = Immutable::new(&dir.path().join("byline.db"));
    let server = serve(dir.path());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let client = reqwest::Client::new();
    let get = |path: &str| {
        rt.block_on(async {
            let r = client
                .get(format!("{}{path}", server.root))
                .send()
                .await
                .expect("get");
            (r.status().as_u16(), r.text().await.unwrap_or_default())
        })
    };
    let (code, feed) = get("/feed.json");
    assert_eq!(code, 200);
    assert!(feed.contains("A story kept in a read-only store"), "{feed}");
    let (_, health) = get("/healthz");
    assert!(
        health.contains("readonly") || health.contains("read-only"),
        "{health}"
    );
    assert!(health.contains("\"failed_stage\": \"store\""), "{health}");
}
