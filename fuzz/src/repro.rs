//! Run a fuzz target's function on files, without AFL++: `repro TARGET FILE...`.
//!
//! Built without instrumentation (`cargo run --release --bin repro`), so a crash found by
//! `fuzz/run` shows its panic message and, with `RUST_BACKTRACE=1`, where it happened.
//! Each file is run on its own; the exit status is 1 when any of them panicked.

use std::panic;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((name, files)) = args.split_first() else {
        eprintln!("usage: repro TARGET FILE...");
        return ExitCode::from(2);
    };
    let Some((_, target)) = tandem_fuzz::TARGETS.iter().find(|(n, _)| n == name) else {
        let names: Vec<&str> = tandem_fuzz::TARGETS.iter().map(|(n, _)| *n).collect();
        eprintln!("unknown target {name}; targets: {}", names.join(" "));
        return ExitCode::from(2);
    };
    let mut panicked = 0;
    for file in files {
        let data = match std::fs::read(file) {
            Ok(data) => data,
            Err(e) => {
                eprintln!("{file}: {e}");
                return ExitCode::from(2);
            }
        };
        match panic::catch_unwind(|| target(&data)) {
            Ok(()) => println!("{file}: ok"),
            Err(_) => {
                panicked += 1;
                println!("{file}: PANIC");
            }
        }
    }
    if panicked > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
