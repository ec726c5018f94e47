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
use crate::stats::{Stat, Stats};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::bindings;
use kernel::prelude::*;

/// Memcgs cached per CPU: 7 slots of 16 bytes and the lock fit two cache lines.
pub(crate) const NR_SLOTS: usize = 7;

/// Pages one memcg may keep in one CPU's stock (6.12's `MEMCG_CHARGE_BATCH`).
pub(crate) const BATCH: usize = bindings::MEMCG_CHARGE_BATCH as usize;

#[derive(Default)]
struct Slot {
    memcg: Option<MemcgRef>,
    nr_pages: usize,
}

impl Slot {
    fn holds(&self, memcg: &MemCgroup) -> bool {
        self.memcg
            .as_ref()
            .is_some_and(|m| core::ptr::eq(m.memcg(), memcg))
    }

    /// Gives the stocked pages back to the counters and drops the memcg.
    fn drain(&mut self) {
        if let Some(memcg) = self.memcg.take() {
            if self.nr_pages > 0 {
                memcg.memcg().memory().uncharge(self.nr_pages);
            }
        }
        self.nr_pages = 0;
    }
}

/// One CPU's stock.
///
/// # Invariants
///
/// `slots` and `victim` are only accessed while `locked` is held by the accessor.
pub(crate) struct CpuStock {
    locked: AtomicBool,
    slots: UnsafeCell<[Slot; NR_SLOTS]>,
    /// Next slot to evict when all are taken (round robin).
    victim: UnsafeCell<usize>,
}

// SAFETY: the cells are only touched under `locked` (type invariant), and `MemcgRef` is `Send`.
unsafe impl Sync for CpuStock {}

/// Exclusive access to one CPU's slots.
struct StockGuard<'a>(&'a CpuStock);

impl CpuStock {
    fn new() -> Self {
        Self {
            locked: AtomicBool::new(false),
            slots: UnsafeCell::new(Default::default()),
            victim: UnsafeCell::new(0),
        }
    }

    /// Takes the slots if nobody holds them. Must be called with preemption disabled
    /// (or from an interrupt) on this stock's CPU, or by a drainer.
    fn try_lock(&self) -> Option<StockGuard<'_>> {
        // Acquire: pairs with the Release in `StockGuard::drop`, so the previous holder's
        // slot updates are visible to us.
        (!self.locked.swap(true, Ordering::Acquire)).then_some(StockGuard(self))
    }

    /// Takes the slots, spinning while an owner holds them. For drainers only, which
    /// never hold another stock's lock while spinning and never run in interrupts.
    fn lock(&self) -> StockGuard<'_> {
        loop {
            if let Some(guard) = self.try_lock() {
                return guard;
            }
            while self.locked.load(Ordering::Relaxed) {
                core::hint::spin_loop();
            }
        }
    }
}

impl StockGuard<'_> {
    fn slots(&mut self) -> &mut [Slot; NR_SLOTS] {
        // SAFETY: we hold the lock, so no one else accesses the slots (type invariant).
        unsafe { &mut *self.0.slots.get() }
    }

    fn next_victim(&mut self) -> usize {
        // SAFETY: as in `slots`, the lock gives exclusive access.
        let victim = unsafe { &mut *self.0.victim.get() };
        let v = *victim;
        *victim = (v + 1) % NR_SLOTS;
        v
    }
}

impl Drop for StockGuard<'_> {
    fn drop(&mut self) {
        // Release: publishes our slot updates to the next holder.
        self.0.locked.store(false, Ordering::Release);
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
        let stock = self.cpus.get(cpu.cpu());
        // More than a batch is never stocked: a miss without looking.
        let hit = nr_pages <= BATCH
            && stock.try_lock().is_some_and(|mut stock| {
                match stock.slots().iter_mut().find(|s| s.holds(memcg)) {
                    Some(slot) if slot.nr_pages >= nr_pages => {
                        slot.nr_pages -= nr_pages;
                        true
                    }
                    _ => false,
                }
            });
        let stat = if hit {
            Stat::StockHits
        } else {
            Stat::StockMisses
        };
        stats.add_on(&cpu, stat, 1);
        hit
    }

    /// Keeps `nr_pages`, charged to `memcg`, in this CPU's stock. What the stock cannot
    /// take (it is busy, or the memcg would hold more than a batch) goes back to the
    /// counters. Never sleeps; may be called in any context.
    pub(crate) fn refill(&self, memcg: &MemCgroup, nr_pages: usize, stats: &Stats) {
        let cpu = CpuGuard::new();
        let Some(mut stock) = self.cpus.get(cpu.cpu()).try_lock() else {
            memcg.memory().uncharge(nr_pages);
            return;
        };
        let slots = stock.slots();
        let i = match slots.iter().position(|s| s.holds(memcg)) {
            Some(i) => i,
            None => {
                let i = match slots.iter().position(|s| s.memcg.is_none()) {
                    Some(i) => i,
                    None => {
                        stats.inc(Stat::StockEvictions);
                        let i = stock.next_victim();
                        stock.slots()[i].drain();
                        i
                    }
                };
                stock.slots()[i].memcg = Some(memcg.get());
                i
            }
        };
        let slot = &mut stock.slots()[i];
        slot.nr_pages += nr_pages;
        if slot.nr_pages > BATCH {
            memcg.memory().uncharge(slot.nr_pages - BATCH);
            slot.nr_pages = BATCH;
        }
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
        for slot in self.cpus.get(cpu).lock().slots() {
            slot.drain();
        }
    }

    fn drain_matching(&self, matches: impl Fn(&MemCgroup) -> bool, stats: &Stats) {
        // Pinned, so that no stock stays locked while we are preempted: its owner would
        // fall back to the counters until we run again.
        let cpu = CpuGuard::new();
        let (mut local, mut remote) = (0, 0);
        for (n, stock) in self.cpus.iter() {
            let mut stock = stock.lock();
            let mut drained = false;
            for slot in stock.slots() {
                if slot.memcg.as_ref().is_some_and(|m| matches(m.memcg())) {
                    slot.drain();
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

#[cfg(CONFIG_KUNIT)]
#[path = "stock_kunit.rs"]
mod kunit_tests;
