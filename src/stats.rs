// SPDX-License-Identifier: GPL-2.0

//! Event counters, per CPU, summed for `/sys/kernel/debug/memcg_rs/stats`.

use crate::percpu::{CpuGuard, PerCpu};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::prelude::*;

macro_rules! stats {
    ($($variant:ident => $name:literal,)+) => {
        /// One counter of the stats file.
        #[derive(Clone, Copy)]
        #[repr(usize)]
        pub(crate) enum Stat {
            $(#[doc = $name] $variant,)+
        }

        const NAMES: &[&kernel::str::CStr] = &[$(kernel::c_str!($name),)+];
    };
}

stats! {
    ChargesUserFault => "charges_user_fault",
    PagesUserFault => "pages_user_fault",
    ChargesKmem => "charges_kmem",
    PagesKmem => "pages_kmem",
    ChargesOther => "charges_other",
    PagesOther => "pages_other",
    StockHits => "stock_hits",
    StockMisses => "stock_misses",
    StockEvictions => "stock_evictions",
    BatchRefills => "batch_refills",
    ReclaimCalls => "reclaim_calls",
    DrainAllCalls => "drain_all_calls",
    DrainsLocal => "drains_local",
    DrainsRemote => "drains_remote",
    ForcedCharges => "forced_charges",
    FailedCharges => "failed_charges",
    OomContextsRecorded => "oom_contexts_recorded",
    OomContextsResolved => "oom_contexts_resolved",
    OomContextsAbandoned => "oom_contexts_abandoned",
    OomKillsInvoked => "oom_kills_invoked",
    OomSync => "oom_sync",
}

const N: usize = NAMES.len();

/// The counters of every CPU.
pub(crate) struct Stats {
    cpus: PerCpu<[AtomicU64; N]>,
}

impl Stats {
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            cpus: PerCpu::new(|_| [const { AtomicU64::new(0) }; N])?,
        })
    }

    /// Adds `n` to `stat` on the current CPU.
    pub(crate) fn add(&self, stat: Stat, n: u64) {
        self.add_on(&CpuGuard::new(), stat, n);
    }

    /// Adds `n` to `stat` on the CPU `cpu` pins, for callers already pinned.
    pub(crate) fn add_on(&self, cpu: &CpuGuard, stat: Stat, n: u64) {
        let counter = &self.cpus.get(cpu.cpu())[stat as usize];
        // Only this CPU writes its counters, and `cpu` keeps us on it. An interrupt on this
        // CPU may add too, so the add must be one instruction; it need not be a locked one,
        // which is what `this_cpu_add()` relies on in C.
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `counter` is a live, aligned 8-byte counter. The single `add` cannot be
        // split by an interrupt, and readers on other CPUs see either the old or the new
        // value, as an aligned 8-byte access is single-copy atomic on x86.
        unsafe {
            core::arch::asm!(
                "add qword ptr [{counter}], {n}",
                counter = in(reg) counter.as_ptr(),
                n = in(reg) n,
                options(nostack),
            )
        };
        #[cfg(not(target_arch = "x86_64"))]
        // Relaxed: a counter orders nothing; the atomic keeps interrupts on this CPU, and
        // readers on others, from losing or tearing updates.
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn inc(&self, stat: Stat) {
        self.add(stat, 1);
    }

    /// The sum over all CPUs of counter number `i`.
    pub(crate) fn value(&self, i: usize) -> u64 {
        self.cpus
            .iter()
            .map(|(_, c)| c[i].load(Ordering::Relaxed))
            .sum()
    }

    /// The sum over all CPUs of `stat`.
    pub(crate) fn get(&self, stat: Stat) -> u64 {
        self.value(stat as usize)
    }
}

#[no_mangle]
extern "C" fn memcg_rs_stat_count() -> core::ffi::c_uint {
    N as _
}

#[no_mangle]
extern "C" fn memcg_rs_stat_name(i: core::ffi::c_uint) -> *const u8 {
    NAMES[i as usize].as_char_ptr()
}

#[no_mangle]
extern "C" fn memcg_rs_stat_value(i: core::ffi::c_uint) -> u64 {
    crate::state().stats.value(i as usize)
}
