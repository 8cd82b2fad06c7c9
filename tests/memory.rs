//! The daemon gives memory freed after a burst of work back to the system once it is idle
//! (glibc only: elsewhere the system allocator is left as it is). One test in its own process,
//! because it reads the process's resident memory.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

use std::time::{Duration, Instant};

fn resident_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        / 1024
}

#[test]
fn memory_freed_after_a_burst_goes_back_to_the_system_once_idle() {
    tandem::daemon::memory::keep_small();
    let before = resident_mb();
    // 200 MB in small pieces, as a burst of requests allocates them, then one more piece that
    // stays: it sits above the others in the heap, so freeing them cannot shrink the heap from
    // its top and only a trim of the free pages inside it gives them back.
    let burst: Vec<Vec<u8>> = (0..200_000).map(|i| vec![i as u8; 1_000]).collect();
    let stays = vec![1u8; 1_000];
    let busy = resident_mb();
    assert!(
        busy >= before + 150,
        "the burst is resident: {before} → {busy} MB"
    );
    drop(burst);

    let deadline = Instant::now() + Duration::from_secs(20);
    let mut now = resident_mb();
    while now > before + 50 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        now = resident_mb();
    }
    assert!(
        now <= before + 50,
        "resident {now} MB 20 s after the burst was freed (before it: {before} MB, during: {busy} MB)"
    );
    assert_eq!(stays[0], 1);
}
