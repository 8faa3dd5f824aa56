//! The `byline` command; all wiring lives in [`byline::cli`].

fn main() -> std::process::ExitCode {
    byline::cli::main()
}
