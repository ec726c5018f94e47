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
        // Relaxed: a counter orders nothing; the atomic only keeps interrupts on this
        // CPU, and readers on others, from losing or tearing updates.
        self.cpus.get(cpu.cpu())[stat as usize].fetch_add(n, Ordering::Relaxed);
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
