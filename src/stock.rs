// SPDX-License-Identifier: GPL-2.0

//! The per-CPU charge stock: pages already charged to a memcg's counters and not yet used,
//! handed out without touching the shared counters.
//!
//! Each CPU caches up to [`NR_SLOTS`] memcgs (6.12 caches one, so tasks of several cgroups
//! sharing a CPU evict each other on every switch). A CPU's slots are guarded by a trylock
//! flag instead of an IRQ-disabling local lock: its owner takes it with preemption disabled,
//! so the only contenders are interrupts on the same CPU and drainers on other CPUs. A
//! consumer or refiller that finds it taken does not wait: it falls back to the page
//! counters, which is always correct. Only drainers spin, and only for as long as an owner
//! holds the flag (a few instructions, never across a sleep).
//!
//! Every cached memcg holds a css reference, so a memcg cannot be freed while it has stock.

use crate::memcg::{MemCgroup, MemcgRef};
use crate::percpu::{CpuGuard, PerCpu};
use crate::stats::{CpuStats, Stat, Stats};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, Ordering};
use kernel::bindings;
use kernel::prelude::*;

/// Memcgs cached per CPU. Their pointers fill one cache line, which every charge searches;
/// the page counts, the round-robin cursor and the lock share the next one.
pub(crate) const NR_SLOTS: usize = 8;

/// Pages one memcg may keep in one CPU's stock (6.12's `MEMCG_CHARGE_BATCH`).
pub(crate) const BATCH: usize = bindings::MEMCG_CHARGE_BATCH as usize;

/// The memcgs one CPU caches and their stocked pages.
#[derive(Default)]
struct Slots {
    /// The cached memcgs, each holding a css reference.
    memcgs: [Option<MemcgRef>; NR_SLOTS],
    /// Pages stocked for `memcgs[i]`, at most [`BATCH`]; 0 for an empty slot.
    nr_pages: [u32; NR_SLOTS],
    /// Next slot to evict when all are taken (round robin).
    victim: usize,
}

impl Slots {
    /// The slot caching `memcg`, if any.
    fn find(&self, memcg: &MemCgroup) -> Option<usize> {
        self.memcgs
            .iter()
            .position(|m| m.as_ref().is_some_and(|m| core::ptr::eq(m.memcg(), memcg)))
    }

    /// Gives slot `i`'s pages back to the counters and drops its memcg.
    fn drain(&mut self, i: usize) {
        if let Some(memcg) = self.memcgs[i].take() {
            if self.nr_pages[i] > 0 {
                memcg.memcg().memory().uncharge(self.nr_pages[i] as usize);
            }
        }
        self.nr_pages[i] = 0;
    }

    /// Adds `nr_pages`, charged to `memcg`, to its slot: `found`, its own if it has one, or
    /// else a free one or the round-robin victim, drained. What would take the slot above a
    /// batch goes back to the counters. [`Stock::refill`] does the common case, a slot with
    /// room for the pages, inline; this is the rest, out of line.
    #[inline(never)]
    fn refill_slow(
        &mut self,
        found: Option<usize>,
        memcg: &MemCgroup,
        nr_pages: usize,
        stats: CpuStats<'_>,
    ) {
        let i = match found {
            Some(i) => i,
            None => {
                let i = match self.memcgs.iter().position(|m| m.is_none()) {
                    Some(i) => i,
                    None => {
                        stats.inc(Stat::StockEvictions);
                        let i = self.victim;
                        self.victim = (i + 1) % NR_SLOTS;
                        self.drain(i);
                        i
                    }
                };
                self.memcgs[i] = Some(memcg.get());
                i
            }
        };
        let total = self.nr_pages[i] as usize + nr_pages;
        if total > BATCH {
            memcg.memory().uncharge(total - BATCH);
        }
        self.nr_pages[i] = total.min(BATCH) as u32;
    }
}

// `Option<MemcgRef>` is a bare pointer, so the memcgs fill exactly one cache line.
const _: () = assert!(core::mem::size_of::<[Option<MemcgRef>; NR_SLOTS]>() == 64);

/// One CPU's stock.
///
/// # Invariants
///
/// `slots` is only accessed while `locked` is held by the accessor.
pub(crate) struct CpuStock {
    slots: UnsafeCell<Slots>,
    /// 1 while held, else 0. A word rather than a bool: taking it is then one `lock bts`.
    locked: AtomicU32,
}

// SAFETY: the cell is only touched under `locked` (type invariant), and `MemcgRef` is `Send`.
unsafe impl Sync for CpuStock {}

/// Exclusive access to one CPU's slots.
struct StockGuard<'a>(&'a CpuStock);

impl CpuStock {
    fn new() -> Self {
        Self {
            slots: UnsafeCell::new(Slots::default()),
            locked: AtomicU32::new(0),
        }
    }

    /// Takes the slots if nobody holds them. Must be called with preemption disabled
    /// (or from an interrupt) on this stock's CPU, or by a drainer.
    fn try_lock(&self) -> Option<StockGuard<'_>> {
        // Acquire: pairs with the Release in `StockGuard::drop`, so the previous holder's
        // slot updates are visible to us.
        (self.locked.fetch_or(1, Ordering::Acquire) & 1 == 0).then(|| StockGuard(self))
    }

    /// Takes the slots, spinning while an owner holds them. For drainers only, which
    /// never hold another stock's lock while spinning and never run in interrupts.
    fn lock(&self) -> StockGuard<'_> {
        loop {
            if let Some(guard) = self.try_lock() {
                return guard;
            }
            while self.locked.load(Ordering::Relaxed) != 0 {
                core::hint::spin_loop();
            }
        }
    }
}

impl StockGuard<'_> {
    fn slots(&mut self) -> &mut Slots {
        // SAFETY: we hold the lock, so no one else accesses the slots (type invariant).
        unsafe { &mut *self.0.slots.get() }
    }
}

impl Drop for StockGuard<'_> {
    fn drop(&mut self) {
        // Release: publishes our slot updates to the next holder.
        self.0.locked.store(0, Ordering::Release);
    }
}

/// The stocks of all CPUs.
pub(crate) struct Stock {
    cpus: PerCpu<CpuStock>,
}

impl Stock {
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            cpus: PerCpu::new(|_| CpuStock::new())?,
        })
    }

    /// Takes `nr_pages` for `memcg` from this CPU's stock; false if it has too few.
    pub(crate) fn consume(&self, memcg: &MemCgroup, nr_pages: usize, stats: &Stats) -> bool {
        let cpu = CpuGuard::new();
        self.consume_on(&cpu, memcg, nr_pages, stats.on(&cpu))
    }

    /// [`Stock::consume`] on the CPU `cpu` pins, counting in that CPU's `stats`.
    #[inline]
    pub(crate) fn consume_on(
        &self,
        cpu: &CpuGuard,
        memcg: &MemCgroup,
        nr_pages: usize,
        stats: CpuStats<'_>,
    ) -> bool {
        // No slot holds more than a batch, so a larger charge misses in the count check; it
        // is rare enough not to be worth a test of its own on every charge.
        let hit = self.cpus.this(cpu).try_lock().is_some_and(|mut stock| {
            let slots = stock.slots();
            match slots.find(memcg) {
                Some(i) if slots.nr_pages[i] as usize >= nr_pages => {
                    slots.nr_pages[i] -= nr_pages as u32;
                    true
                }
                _ => false,
            }
        });
        stats.inc(if hit {
            Stat::StockHits
        } else {
            Stat::StockMisses
        });
        hit
    }

    /// Keeps `nr_pages`, charged to `memcg`, in this CPU's stock. What the stock cannot
    /// take (it is busy, or the memcg would hold more than a batch) goes back to the
    /// counters. Never sleeps; may be called in any context.
    ///
    /// Inlined into the refill operation, so that the common case makes no call.
    #[inline(always)]
    pub(crate) fn refill(&self, memcg: &MemCgroup, nr_pages: usize, stats: &Stats) {
        let cpu = CpuGuard::new();
        let Some(mut stock) = self.cpus.this(&cpu).try_lock() else {
            uncharge_busy(memcg, nr_pages);
            return;
        };
        let slots = stock.slots();
        let found = slots.find(memcg);
        if let Some(i) = found {
            let total = slots.nr_pages[i] as usize + nr_pages;
            if total <= BATCH {
                slots.nr_pages[i] = total as u32;
                return;
            }
        }
        slots.refill_slow(found, memcg, nr_pages, stats.on(&cpu));
    }

    /// Gives back to the counters every page stocked, on any CPU, for `root` and the memcgs
    /// below it: on this CPU in place, on the others (online, offline or isolated alike)
    /// through their trylock, so no CPU has to run anything for us. Synchronous: when it
    /// returns, no stock holds such pages any more, except those refilled since.
    pub(crate) fn drain_subtree(&self, root: &MemCgroup, stats: &Stats) {
        self.drain_matching(|m| m.is_descendant(root), stats);
    }

    /// Gives back everything stocked on every CPU and drops every css reference.
    pub(crate) fn drain_all(&self, stats: &Stats) {
        self.drain_matching(|_| true, stats);
    }

    /// Gives back everything stocked on `cpu`, which is offline.
    pub(crate) fn drain_cpu(&self, cpu: usize) {
        let mut stock = self.cpus.get(cpu).lock();
        for i in 0..NR_SLOTS {
            stock.slots().drain(i);
        }
    }

    fn drain_matching(&self, matches: impl Fn(&MemCgroup) -> bool, stats: &Stats) {
        // Pinned, so that no stock stays locked while we are preempted: its owner would
        // fall back to the counters until we run again.
        let cpu = CpuGuard::new();
        let (mut local, mut remote) = (0, 0);
        for (n, stock) in self.cpus.iter() {
            let mut stock = stock.lock();
            let slots = stock.slots();
            let mut drained = false;
            for i in 0..NR_SLOTS {
                if slots.memcgs[i].as_ref().is_some_and(|m| matches(m.memcg())) {
                    slots.drain(i);
                    drained = true;
                }
            }
            match (drained, n == cpu.cpu()) {
                (true, true) => local += 1,
                (true, false) => remote += 1,
                _ => {}
            }
        }
        drop(cpu);
        stats.add(Stat::DrainsLocal, local);
        stats.add(Stat::DrainsRemote, remote);
    }
}

/// Gives back to `memcg`'s counters the `nr_pages` that a busy stock could not take.
#[cold]
#[inline(never)]
fn uncharge_busy(memcg: &MemCgroup, nr_pages: usize) {
    memcg.memory().uncharge(nr_pages);
}

#[cfg(CONFIG_KUNIT)]
#[path = "stock_kunit.rs"]
mod kunit_tests;
