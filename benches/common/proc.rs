//! What the kernel tells of a process through /proc (Linux): its resident memory and the CPU
//! time of its threads. Elsewhere every reading is `None`, and the benches say so.

// Each bench reads what it needs of these.
#![allow(dead_code)]

use std::path::Path;

/// This process's /proc directory.
pub const SELF: &str = "/proc/self";

/// A figure in kB from a process's `status` (`VmRSS:` resident now, `VmHWM:` its peak); `proc`
/// is its /proc directory.
pub fn status_kb(proc: &Path, key: &str) -> Option<u64> {
    std::fs::read_to_string(proc.join("status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// A process's resident memory now, in MB.
pub fn resident_mb(proc: &Path) -> Option<f64> {
    status_kb(proc, "VmRSS:").map(|kb| kb as f64 / 1024.0)
}

/// utime + stime of every thread of a process, dead ones included, in seconds (the kernel
/// counts in USER_HZ, 100 per second on Linux).
pub fn process_cpu(proc: &Path) -> Option<f64> {
    let stat = std::fs::read_to_string(proc.join("stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}
