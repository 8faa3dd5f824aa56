//! Clients that cost: random narrowing limits at a bounded CPU cost, clients
//! that never read, and one address asking for every connection.

use super::*;

/// Server CPU seconds (user + system) of process `pid`, from /proc.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 =
        fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0);
    ticks / 100.0
}

/// Random `?limit=`s do not each cost a render: a limit at least the feed's
/// length is the plain document, and the others are few and cached.
#[test]
fn random_limits_are_served_at_a_bounded_cost() {
    let _serial = timed();
    let dir = tempfile::tempdir().expect("tempdir");
    let dump =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/text/nknews-2021-03-04.txt");
    config(
        dir.path(),
        &format!(
            "[server]\nrefresh_interval_secs = 0\nmax_items = 1000\n\
             [[source]]\nname = \"dump\"\nkind = \"text\"\ntimezone = \"Asia/Seoul\"\ninputs = [\"{}\"]\n",
            dump.display()
        ),
    );
    let server = serve(dir.path());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let client = reqwest::Client::new();
    let run = |urls: Vec<String>| {
        let pid = server.child.id();
        let before = cpu_seconds(pid);
        rt.block_on(async {
            for url in urls {
                let r = client
                    .get(url)
                    .header("Accept-Encoding", "gzip, br")
                    .send()
                    .await
                    .expect("get");
                assert_eq!(r.status(), 200);
                r.bytes().await.expect("body");
            }
        });
        cpu_seconds(pid) - before
    };
    let n = 1500;
    let fixed = run((0..n)
        .map(|_| format!("{}/feed.atom", server.root))
        .collect());
    let mut rng = fastrand::Rng::with_seed(7);
    let random = run((0..n)
        .map(|_| format!("{}/feed.atom?limit={}", server.root, rng.usize(1..=1000)))
        .collect());
    eprintln!("server CPU: {n} fixed {fixed:.2} s, {n} random limits {random:.2} s");
    assert!(
        random < fixed * 3.0 + 0.5,
        "{n} random limits cost {random:.2} s of server CPU, {n} fixed requests {fixed:.2} s"
    );
}

/// Clients that pipeline requests and never read the replies are dropped
/// once a write makes no progress for `write_timeout_secs`, so they cannot
/// hold every connection.
#[test]
fn clients_that_never_read_are_dropped_and_others_are_served() {
    let _serial = timed();
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    dump_config(
        dir.path(),
        "max_connections = 3\nwrite_timeout_secs = 2\nheader_timeout_secs = 30",
    );
    let server = serve(dir.path());
    let addr = server.root.trim_start_matches("http://").to_owned();
    let request = "GET /feed.atom HTTP/1.1\r\nHost: x\r\n\r\n".repeat(20_000);
    for _ in 0..3 {
        let mut s = std::net::TcpStream::connect(&addr).expect("connect");
        let request = request.clone();
        // Writes until the server closes the connection; never reads.
        std::thread::spawn(move || {
            let _ = s.write_all(request.as_bytes());
            std::thread::sleep(Duration::from_secs(60));
        });
    }
    std::thread::sleep(Duration::from_millis(500));
    let waited = time_healthz(&addr, Duration::from_secs(15));
    match waited {
        Ok(t) => assert!(t < Duration::from_secs(8), "answered only after {t:?}"),
        Err(e) => panic!("a well-behaved client was not served: {e}"),
    }
}

/// One address cannot take every connection: past `max_connections_per_ip`
/// its connections are closed, and another client is served at once.
#[test]
fn one_address_cannot_take_every_connection() {
    let _serial = timed();
    let dir = tempfile::tempdir().expect("tempdir");
    dump_config(
        dir.path(),
        "max_connections = 8\nmax_connections_per_ip = 4\nheader_timeout_secs = 30",
    );
    let server = serve(dir.path());
    let addr = server.root.trim_start_matches("http://").to_owned();
    let target: std::net::SocketAddr = addr.parse().expect("addr");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    // 20 idle connections from 127.0.0.2 (another loopback address).
    let mut idle: Vec<tokio::net::TcpStream> = rt.block_on(async {
        let mut v = Vec::new();
        for _ in 0..20 {
            let socket = tokio::net::TcpSocket::new_v4().expect("socket");
            socket
                .bind("127.0.0.2:0".parse().expect("bind addr"))
                .expect("bind 127.0.0.2");
            v.push(socket.connect(target).await.expect("connect"));
        }
        v
    });
    // The ones past the limit are closed: reading them ends. Poll until
    // they all are (a loaded machine may take a moment to accept them).
    let closed = rt.block_on(async {
        use tokio::io::AsyncReadExt;
        let mut closed = vec![false; idle.len()];
        let deadline = Instant::now() + Duration::from_secs(10);
        while closed.iter().filter(|c| **c).count() < 16 && Instant::now() < deadline {
            for (s, done) in idle.iter_mut().zip(closed.iter_mut()) {
                let mut b = [0u8; 1];
                if !*done
                    && let Ok(Ok(0)) =
                        tokio::time::timeout(Duration::from_millis(10), s.read(&mut b)).await
                {
                    *done = true;
                }
            }
        }
        closed.iter().filter(|c| **c).count()
    });
    assert_eq!(
        closed, 16,
        "connections past the per-address limit are closed"
    );
    // The four it admitted stay open while another client asks.
    let waited = time_healthz(&addr, Duration::from_secs(15)).expect("served");
    assert!(
        waited < Duration::from_secs(2),
        "answered only after {waited:?}"
    );
    drop(idle);
}
