//! A local upstream for benchmarks: N text listings of M stories each, on
//! one port, until killed. Prints `upstream http://127.0.0.1:PORT` once it
//! listens; listing `n` is at `/s{n}`. Used by `scripts/bench-replicas.sh`.
//!
//!     cargo run --release --example bench_upstream -- 1000 50

#[path = "../tests/support/http_server.rs"]
mod http_server;

use http_server::{Reply, Story, TestServer, dump, writer};

fn main() {
    let mut args = std::env::args().skip(1);
    let sources: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let items: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let server = TestServer::start().await;
        for s in 0..sources {
            let stories: Vec<Story> = (0..items)
                .map(|i| {
                    Story::new(
                        &format!("Source {s} reports story {i} of the week"),
                        &format!("What happened in story {i} of source {s}, in one sentence."),
                        &writer(s * 7 + i),
                        &format!("May {}, 2022", 1 + i % 28),
                    )
                })
                .collect();
            server.set(
                &format!("/s{s}"),
                Reply::text(dump("May 29, 2022", &stories)),
            );
        }
        println!("upstream {}", server.url(""));
        std::future::pending::<()>().await;
    });
}
