//! Memory: the daemon hands back to the system what it no longer uses. It sits on a
//! salesperson's desktop all day, mostly idle, between bursts (a client's sync, a run, a
//! feed of the whole calendar) that allocate and free tens of megabytes.
//!
//! On glibc (Linux) freed memory stays with the process by default: up to eight arenas per
//! core each keep what was freed in them, and the threshold above which a buffer gets its own
//! mapping (returned when it is freed) rises after every large buffer, so the next listing of
//! many megabytes comes from an arena and stays there. With the DAV benchmark's 100,000 events
//! the daemon was resident at 384 MB after the fill and 577 MB after serving, of which some
//! 100 MB were in use; bounded and trimmed, 106 MB after the fill and 115 MB once idle after
//! serving. The price: a listing of many members faults its buffer's pages in afresh, some 9 %
//! more time per PROPFIND of 2,000 members. Elsewhere the system allocator is left as it is.

/// Bound the allocator and start the trimmer, once per process: call it at start, before the
/// threads that do the work.
pub fn keep_small() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static START: std::sync::Once = std::sync::Once::new();
        START.call_once(glibc::keep_small);
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod glibc {
    use std::time::Duration;

    /// How often the process's CPU time is looked at; a trim follows the first quiet interval.
    const TICK: Duration = Duration::from_secs(1);

    /// CPU time in a tick below which the process counts as idle (1 %).
    const IDLE: Duration = Duration::from_millis(10);

    /// Work since the last trim worth trimming after: less has not freed anything to speak of.
    const WORK: Duration = Duration::from_millis(50);

    /// Two arenas: a desktop daemon rarely has more than two threads allocating at once, and
    /// each arena keeps its own free memory.
    const ARENAS: libc::c_int = 2;

    /// A buffer this large or larger (a listing of some 7,000 members, a feed) gets its own
    /// mapping, returned to the system when it is freed; fixed, so glibc does not raise it.
    const OWN_MAPPING: libc::c_int = 1024 * 1024;

    pub fn keep_small() {
        // SAFETY: mallopt only changes glibc's tunables; both values are in range.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, ARENAS);
            libc::mallopt(libc::M_MMAP_THRESHOLD, OWN_MAPPING);
        }
        let spawned = std::thread::Builder::new()
            .name("tandem-memory".into())
            .spawn(trim_when_idle);
        if let Err(e) = spawned {
            tracing::warn!("memory freed after a burst stays with tandem: no thread to trim ({e})");
        }
    }

    /// Once the process has worked and then gone quiet for a tick, give the memory it freed
    /// back. Looking at CPU time instead of hooking every request covers every kind of work
    /// (DAV, runs, connectors, the review app) and costs one system call a second.
    fn trim_when_idle() {
        let mut last = cpu_time();
        let mut worked = Duration::ZERO;
        loop {
            std::thread::sleep(TICK);
            let now = cpu_time();
            let used = now.saturating_sub(last);
            last = now;
            if used > IDLE {
                worked += used;
            } else if worked >= WORK {
                // SAFETY: malloc_trim takes each arena's lock; it is safe from any thread.
                let released = unsafe { libc::malloc_trim(0) } == 1;
                tracing::debug!(
                    released,
                    "idle after {worked:?} of work: freed memory trimmed"
                );
                worked = Duration::ZERO;
                // The trim's own CPU time is not work to trim after.
                last = cpu_time();
            }
        }
    }

    /// The CPU time of the whole process (all threads); zero if the clock cannot be read,
    /// which then never counts as work.
    fn cpu_time() -> Duration {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `t` is a valid timespec for the call to fill.
        unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
        Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
    }
}
