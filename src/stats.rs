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
    OomContextsFoundRoom => "oom_contexts_found_room",
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
        let cpu = CpuGuard::new();
        self.on(&cpu).add(stat, n);
    }

    /// Adds 1 to `stat` on the current CPU.
    pub(crate) fn inc(&self, stat: Stat) {
        let cpu = CpuGuard::new();
        self.on(&cpu).inc(stat);
    }

    /// The counters of the CPU `cpu` pins, for callers already pinned.
    #[inline]
    pub(crate) fn on<'a>(&'a self, cpu: &'a CpuGuard) -> CpuStats<'a> {
        CpuStats(self.cpus.this(cpu))
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

/// Where a charge came from, as far as the kernel tells: the counter pairs
/// `charges_*`/`pages_*`.
#[derive(Clone, Copy)]
pub(crate) enum ChargeKind {
    /// Inside a user page fault.
    UserFault,
    /// `__GFP_ACCOUNT`: kernel memory.
    Kmem,
    /// Anything else.
    Other,
}

impl ChargeKind {
    /// The kind's `charges_*` counter; its `pages_*` counter is the next one.
    fn charges(self) -> Stat {
        match self {
            ChargeKind::UserFault => Stat::ChargesUserFault,
            ChargeKind::Kmem => Stat::ChargesKmem,
            ChargeKind::Other => Stat::ChargesOther,
        }
    }
}

const _: () = {
    assert!(Stat::PagesUserFault as usize == Stat::ChargesUserFault as usize + 1);
    assert!(Stat::PagesKmem as usize == Stat::ChargesKmem as usize + 1);
    assert!(Stat::PagesOther as usize == Stat::ChargesOther as usize + 1);
};

/// The counters of the CPU a [`CpuGuard`] pins.
///
/// Only that CPU writes its counters, and the guard keeps us on it. An interrupt on this CPU
/// may add too, so each add must be one instruction; it need not be a locked one, which is
/// what `this_cpu_add()` relies on in C. Readers on other CPUs see either the old or the new
/// value of a counter, as an aligned 8-byte access is single-copy atomic on x86.
#[derive(Clone, Copy)]
pub(crate) struct CpuStats<'a>(&'a [AtomicU64; N]);

impl CpuStats<'_> {
    /// Adds `n` to `stat`.
    #[inline]
    pub(crate) fn add(self, stat: Stat, n: u64) {
        let counter = &self.0[stat as usize];
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `counter` is a live, aligned 8-byte counter, changed with one instruction.
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

    /// Adds 1 to `stat`.
    #[inline]
    pub(crate) fn inc(self, stat: Stat) {
        let counter = &self.0[stat as usize];
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `add`.
        unsafe {
            core::arch::asm!(
                "inc qword ptr [{counter}]",
                counter = in(reg) counter.as_ptr(),
                options(nostack),
            )
        };
        #[cfg(not(target_arch = "x86_64"))]
        // Relaxed: as in `add`.
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a charge of `nr_pages` of `kind`.
    #[inline]
    pub(crate) fn count_charge(self, kind: ChargeKind, nr_pages: usize) {
        let charges = kind.charges() as usize;
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `add`, for the `charges_*` counter and the `pages_*` counter that
        // follows it in the array (asserted above).
        unsafe {
            core::arch::asm!(
                "inc qword ptr [{charges}]",
                "add qword ptr [{charges} + 8], {n}",
                charges = in(reg) self.0[charges].as_ptr(),
                n = in(reg) nr_pages as u64,
                options(nostack),
            )
        };
        #[cfg(not(target_arch = "x86_64"))]
        {
            // Relaxed: as in `add`.
            self.0[charges].fetch_add(1, Ordering::Relaxed);
            self.0[charges + 1].fetch_add(nr_pages as u64, Ordering::Relaxed);
        }
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
