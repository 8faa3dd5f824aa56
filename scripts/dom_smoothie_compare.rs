// The readability crate dom_smoothie (0.19, MIT) on saved article pages, for
// the comparison in docs/PERFORMANCE.md. Not part of byline's build: copy it
// into a scratch crate with `dom_smoothie = "0.19"` and `serde_json = "1"`:
//
//   cargo new /tmp/readab && cp scripts/dom_smoothie_compare.rs /tmp/readab/src/main.rs
//   (add the two dependencies to /tmp/readab/Cargo.toml)
//   cargo build --release --manifest-path /tmp/readab/Cargo.toml
//   /tmp/readab/target/release/readab URL FILE [URL FILE ...]   # JSON lines
//
// Prints dom_smoothie's text for each (url, file) pair as JSON lines, with the time it took.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let (url, file) = (&pair[0], &pair[1]);
        let html = std::fs::read_to_string(file).unwrap();
        let t = std::time::Instant::now();
        let cfg = dom_smoothie::Config { text_mode: dom_smoothie::TextMode::Formatted, ..Default::default() };
        let out = dom_smoothie::Readability::new(html.as_str(), Some(url.as_str()), Some(cfg))
            .and_then(|mut r| r.parse());
        let micros = t.elapsed().as_micros();
        let line = match out {
            Ok(a) => serde_json::json!({"url": url, "micros": micros, "text": a.text_content.to_string(),
                "published": a.published_time.map(|s| s.to_string()), "byline": a.byline.map(|s| s.to_string()), "image": a.image.map(|s| s.to_string())}),
            Err(e) => serde_json::json!({"url": url, "error": e.to_string()}),
        };
        println!("{line}");
    }
}
