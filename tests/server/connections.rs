//! What one connection may hold: header and keep-alive timeouts, a reader
//! that pauses, the connection limit, one Host, and a graceful SIGTERM.

use super::*;

#[test]
fn slow_headers_are_cut_off() {
    // header_timeout_secs = 1 in the test config.
    let s = Server::start("http://127.0.0.1:8080/", "");
    let mut slow = TcpStream::connect(&s.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    slow.write_all(b"GET /feed.atom HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let _ = slow.read_to_end(&mut buf);
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(5),
        "connection held for {waited:?}"
    );
    let text = String::from_utf8_lossy(&buf);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "unexpected answer {text:?}"
    );
    // The server still serves others.
    let answer = raw(
        &s.addr,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(answer.starts_with(b"HTTP/1.1 200"));
}

#[test]
fn idle_keep_alive_closes_and_busy_connections_stay() {
    // header_timeout_secs = 1: no progress for 1 to 1.25 s closes a connection.
    let s = Server::start("http://127.0.0.1:8080/", "");
    let request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    let answered = |c: &mut TcpStream| {
        let mut buf = [0u8; 4096];
        let n = c.read(&mut buf).unwrap_or(0);
        n > 0 && buf.starts_with(b"HTTP/1.1 200")
    };
    // A request every 0.5 s for 3 s keeps its connection: each is progress.
    let mut busy = TcpStream::connect(&s.addr).unwrap();
    busy.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    for n in 0..6 {
        busy.write_all(request).unwrap();
        assert!(answered(&mut busy), "request {n} on a busy connection");
        std::thread::sleep(Duration::from_millis(500));
    }
    // Left idle after a response, it is closed.
    busy.write_all(request).unwrap();
    assert!(answered(&mut busy));
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = busy.read_to_end(&mut rest);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
        "idle connection closed after {waited:?}"
    );
    assert!(rest.is_empty(), "unexpected bytes {rest:?}");
}

#[test]
fn a_reader_pausing_longer_than_the_header_timeout_keeps_its_responses() {
    // header_timeout_secs = 1, write_timeout_secs 30 (the default): a client
    // that stops reading for 2.5 s is the write deadline's to judge, and it
    // allows that; the watchdog must not close the connection meanwhile.
    let s = Server::start("http://127.0.0.1:8080/", "");
    let one = raw(
        &s.addr,
        b"GET /feed.atom HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(one.starts_with(b"HTTP/1.1 200"));
    // Enough responses to fill both socket buffers many times over.
    let n = (24 << 20) / one.len() + 1;
    let mut c = TcpStream::connect(&s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let request = b"GET /feed.atom HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut last = request.to_vec();
    last.truncate(last.len() - 2);
    last.extend_from_slice(b"Connection: close\r\n\r\n");
    let mut all = request.repeat(n - 1);
    all.extend_from_slice(&last);
    c.write_all(&all).unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let mut got = Vec::new();
    let _ = c.read_to_end(&mut got);
    let answered = got.windows(12).filter(|w| w == b"HTTP/1.1 200").count();
    assert_eq!(answered, n, "{} of {n} responses arrived", answered);
}

#[test]
fn extra_connections_wait_for_a_free_slot() {
    let s = Server::start("http://127.0.0.1:8080/", "max_connections = 1");
    // The first client holds the only slot with a keep-alive connection.
    let mut first = TcpStream::connect(&s.addr).unwrap();
    first
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 64];
    first
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    assert!(first.read(&mut buf).unwrap() > 0);
    // The second is accepted by the kernel but not served while it is held.
    let mut second = TcpStream::connect(&s.addr).unwrap();
    second
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    second
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    assert!(
        second.read(&mut buf).is_err(),
        "served beyond max_connections"
    );
    drop(first);
    second
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = second.read_to_end(&mut answer);
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
}

#[test]
fn sigterm_shuts_down_gracefully() {
    let mut s = Server::start("http://127.0.0.1:8080/", "");
    let pid = s.child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = s.child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    std::thread::sleep(Duration::from_millis(100));
    let log = s.log_text();
    assert!(log.contains("SIGTERM"), "{log}");
    assert!(TcpStream::connect(&s.addr).is_err(), "still listening");
}

/// RFC 9112: an HTTP/1.1 request needs exactly one Host header.
#[test]
fn a_request_without_host_or_with_two_is_refused() {
    let s = Server::start("http://127.0.0.1:8080/", "");
    let status = |request: &str| {
        let answer = raw(&s.addr, request.as_bytes());
        let (head, _) = split_response(&answer);
        head.lines().next().unwrap_or_default().to_owned()
    };
    assert!(
        status("GET /feed.atom HTTP/1.1\r\nConnection: close\r\n\r\n").contains(" 400 "),
        "no Host"
    );
    assert!(
        status("GET /feed.atom HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n")
            .contains(" 400 "),
        "two Hosts"
    );
    assert!(
        status("GET /feed.atom HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").contains(" 200 "),
        "one Host"
    );
}
