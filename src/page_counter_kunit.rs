// SPDX-License-Identifier: GPL-2.0

//! KUnit tests of [`PageCounter`] on real `struct page_counter` hierarchies.
//!
//! Each test builds its own counters, initialised field by field as `page_counter_init()` does,
//! charges them through the Rust wrapper and checks the C fields directly, as `memory.current`,
//! `memory.peak`, `memory.events` and reclaim's protection code would read them.

use crate::kunit::{Failed, TestResult};
use crate::page_counter::{PageCounter, UnderflowReport, PAGE_COUNTER_MAX};
use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::bindings;
use kernel::prelude::*;
use kernel::types::Opaque;

/// Underflows reported by [`TestCounter`]s, which must not use up the one-time warning.
static UNDERFLOWS: AtomicUsize = AtomicUsize::new(0);

/// Counts underflows instead of warning: the tests cause them on purpose.
enum CountUnderflows {}

impl UnderflowReport for CountUnderflows {
    fn report(_new: isize, _nr_pages: usize) {
        UNDERFLOWS.fetch_add(1, Ordering::Relaxed);
    }
}

type TestCounter = PageCounter<CountUnderflows>;

/// Nodes a test tree has room for.
const NODES: usize = 4;

/// The indices of the trees most tests use: a chain root <- mid <- leaf, and a sibling leaf.
const ROOT: usize = 0;
const MID: usize = 1;
const LEAF: usize = 2;
const SIBLING: usize = 3;

/// Page counters owned by one test.
///
/// # Invariants
///
/// `nodes` comes from `KBox::into_raw` of `NODES` counters, each initialised as
/// `page_counter_init()` does with its parent inside the same allocation.
struct Tree {
    nodes: *mut bindings::page_counter,
}

/// Reads a field of the C counter `$i` of `$tree`, the way C would (`READ_ONCE()`).
macro_rules! c_field {
    ($tree:expr, $i:expr, $($field:ident).+) => {{
        let counter = $tree.raw($i);
        // SAFETY: `counter` points to a live, initialised counter of the tree, and a volatile
        // word-sized read is how C reads these fields.
        unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*counter).$($field).+)) }
    }};
}

/// Writes a field of the C counter `$i` of `$tree`, the way C would (`WRITE_ONCE()`).
macro_rules! set_c_field {
    ($tree:expr, $i:expr, $field:ident, $val:expr) => {{
        let counter = $tree.raw($i);
        // SAFETY: As for `c_field!`: C writes these `unsigned long` fields with `WRITE_ONCE()`.
        unsafe { core::ptr::write_volatile(core::ptr::addr_of_mut!((*counter).$field), $val) }
    }};
}

impl Tree {
    /// Builds the tree in which node `i` has parent `parents[i]` (`None` for a root), every
    /// `max` is `PAGE_COUNTER_MAX`, and all counters share `protection_support`.
    fn new(parents: [Option<usize>; NODES], protection_support: bool) -> Result<Self, Failed> {
        let zeroed: [bindings::page_counter; NODES] =
            core::array::from_fn(|_| bindings::page_counter::default());
        let nodes = KBox::new(zeroed, GFP_KERNEL).map_err(|_| {
            pr_err!("    # cannot allocate a page counter tree\n");
            Failed
        })?;
        let nodes = KBox::into_raw(nodes);
        let nodes: *mut bindings::page_counter = nodes.cast();
        for (i, parent) in parents.into_iter().enumerate() {
            let parent = match parent {
                Some(p) if p < NODES => nodes.wrapping_add(p),
                Some(_) => return Err(Failed),
                None => core::ptr::null_mut(),
            };
            // SAFETY: `nodes` holds `NODES` zeroed counters that nothing else references yet.
            // INVARIANT: this is page_counter_init(): usage is already zero.
            unsafe {
                let counter = nodes.add(i);
                (*counter).max = PAGE_COUNTER_MAX;
                (*counter).parent = parent;
                (*counter).protection_support = protection_support;
            }
        }
        Ok(Tree { nodes })
    }

    /// root <- mid <- leaf, plus a sibling leaf under mid.
    fn chain(protection_support: bool) -> Result<Self, Failed> {
        Self::new([None, Some(ROOT), Some(MID), Some(MID)], protection_support)
    }

    fn raw(&self, i: usize) -> *mut bindings::page_counter {
        assert!(i < NODES);
        self.nodes.wrapping_add(i)
    }

    fn counter(&self, i: usize) -> &TestCounter {
        // SAFETY: The counter is initialised with its ancestors in the same allocation, which
        // lives as long as `self` (type invariant); C does not touch it.
        unsafe { TestCounter::from_raw(self.raw(i)) }
    }

    fn set_max(&self, i: usize, max: usize) {
        set_c_field!(self, i, max, max);
    }

    fn usage(&self, i: usize) -> i64 {
        c_field!(self, i, usage.counter)
    }

    fn usages(&self) -> [i64; NODES] {
        core::array::from_fn(|i| self.usage(i))
    }

    fn failcnts(&self) -> [usize; NODES] {
        core::array::from_fn(|i| c_field!(self, i, failcnt))
    }

    fn watermark(&self, i: usize) -> usize {
        c_field!(self, i, watermark)
    }

    fn local_watermark(&self, i: usize) -> usize {
        c_field!(self, i, local_watermark)
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        // SAFETY: `nodes` came from `KBox::into_raw` of this array type (type invariant), and
        // no reference into it outlives `self`.
        drop(unsafe { KBox::from_raw(self.nodes.cast::<[bindings::page_counter; NODES]>()) });
    }
}

fn refused_by(result: Result<(), &TestCounter>, tree: &Tree, i: usize) -> bool {
    matches!(result, Err(c) if c.as_ptr() == tree.raw(i))
}

fn try_charge_within_limits_charges_every_level() -> TestResult {
    let t = Tree::chain(false)?;
    t.set_max(LEAF, 20);
    t.set_max(MID, 50);
    t.set_max(ROOT, 100);
    kunit_assert!(t.counter(LEAF).try_charge(7).is_ok());
    kunit_assert!(t.counter(SIBLING).try_charge(3).is_ok());
    kunit_assert_eq!(t.usages(), [10, 10, 7, 3]);
    kunit_assert_eq!(t.counter(MID).usage(), 10);
    kunit_assert_eq!(t.failcnts(), [0, 0, 0, 0]);
    Ok(())
}

fn try_charge_up_to_max_succeeds_at_every_level_and_one_page_more_fails() -> TestResult {
    let t = Tree::chain(false)?;
    t.set_max(LEAF, 4);
    t.set_max(MID, 6);
    t.set_max(ROOT, 8);
    kunit_assert_eq!(t.counter(MID).max(), 6);
    // The leaf's own limit.
    kunit_assert!(t.counter(LEAF).try_charge(4).is_ok());
    kunit_assert!(refused_by(t.counter(LEAF).try_charge(1), &t, LEAF));
    // The middle limit, reached through the sibling.
    kunit_assert!(t.counter(SIBLING).try_charge(2).is_ok());
    kunit_assert!(refused_by(t.counter(SIBLING).try_charge(1), &t, MID));
    // The root limit, reached by charging the root itself.
    kunit_assert!(t.counter(ROOT).try_charge(2).is_ok());
    kunit_assert!(refused_by(t.counter(ROOT).try_charge(1), &t, ROOT));
    kunit_assert_eq!(t.usages(), [8, 6, 4, 2]);
    kunit_assert_eq!(t.failcnts(), [1, 1, 1, 0]);
    Ok(())
}

fn charge_over_max_at_middle_fails_and_unwinds_the_leaf() -> TestResult {
    let t = Tree::chain(false)?;
    t.set_max(MID, 10);
    kunit_assert!(t.counter(LEAF).try_charge(8).is_ok());
    kunit_assert!(refused_by(t.counter(LEAF).try_charge(5), &t, MID));
    kunit_assert_eq!(t.usages(), [8, 8, 8, 0]);
    kunit_assert_eq!(t.failcnts(), [0, 1, 0, 0]);
    // The root never saw the refused charge; the leaf held it until the unwind and its peak
    // shows that, as with C's page_counter_try_charge().
    kunit_assert_eq!(t.watermark(ROOT), 8);
    kunit_assert_eq!(t.watermark(MID), 8);
    kunit_assert_eq!(t.watermark(LEAF), 13);
    Ok(())
}

fn charge_over_max_at_root_fails_and_unwinds_leaf_and_middle() -> TestResult {
    let t = Tree::chain(false)?;
    t.set_max(ROOT, 10);
    kunit_assert!(t.counter(SIBLING).try_charge(6).is_ok());
    kunit_assert!(refused_by(t.counter(LEAF).try_charge(5), &t, ROOT));
    kunit_assert_eq!(t.usages(), [6, 6, 0, 6]);
    kunit_assert_eq!(t.failcnts(), [1, 0, 0, 0]);
    // A smaller charge that fits still goes through after the unwind.
    kunit_assert!(t.counter(LEAF).try_charge(4).is_ok());
    kunit_assert_eq!(t.usages(), [10, 10, 4, 6]);
    Ok(())
}

fn forced_charge_goes_over_max_without_counting_a_failure() -> TestResult {
    let t = Tree::chain(false)?;
    t.set_max(LEAF, 3);
    t.set_max(MID, 5);
    t.set_max(ROOT, 10);
    t.counter(LEAF).charge(12);
    kunit_assert_eq!(t.usages(), [12, 12, 12, 0]);
    kunit_assert_eq!(t.failcnts(), [0, 0, 0, 0]);
    kunit_assert_eq!(t.watermark(ROOT), 12);
    // While over max, a try_charge is refused by the lowest level over its limit.
    kunit_assert!(refused_by(t.counter(LEAF).try_charge(1), &t, LEAF));
    kunit_assert!(refused_by(t.counter(SIBLING).try_charge(1), &t, MID));
    t.counter(LEAF).uncharge(12);
    kunit_assert_eq!(t.usages(), [0, 0, 0, 0]);
    Ok(())
}

fn failcnt_counts_each_refusal_once_at_the_refusing_level() -> TestResult {
    let t = Tree::chain(false)?;
    t.set_max(MID, 2);
    for _ in 0..5 {
        kunit_assert!(refused_by(t.counter(LEAF).try_charge(3), &t, MID));
    }
    kunit_assert!(t.counter(LEAF).try_charge(2).is_ok());
    kunit_assert!(refused_by(t.counter(SIBLING).try_charge(1), &t, MID));
    kunit_assert_eq!(t.failcnts(), [0, 6, 0, 0]);
    kunit_assert_eq!(t.usages(), [2, 2, 2, 0]);
    Ok(())
}

fn watermark_keeps_peak_and_local_watermark_restarts_after_reset() -> TestResult {
    let t = Tree::chain(false)?;
    let leaf = t.counter(LEAF);
    kunit_assert!(leaf.try_charge(9).is_ok());
    leaf.uncharge(6);
    kunit_assert!(leaf.try_charge(2).is_ok());
    kunit_assert_eq!(t.watermark(LEAF), 9);
    kunit_assert_eq!(t.local_watermark(LEAF), 9);
    kunit_assert_eq!(t.watermark(ROOT), 9);

    // What a write to memory.peak does (peak_write()): local_watermark = usage.
    set_c_field!(t, LEAF, local_watermark, t.usage(LEAF) as usize);
    kunit_assert_eq!(t.local_watermark(LEAF), 5);
    kunit_assert!(leaf.try_charge(1).is_ok());
    kunit_assert_eq!(t.local_watermark(LEAF), 6);
    kunit_assert_eq!(t.watermark(LEAF), 9);
    // Passing the old peak raises both.
    leaf.charge(5);
    kunit_assert_eq!(t.local_watermark(LEAF), 11);
    kunit_assert_eq!(t.watermark(LEAF), 11);
    // Uncharging lowers neither.
    leaf.uncharge(11);
    kunit_assert_eq!(t.local_watermark(LEAF), 11);
    kunit_assert_eq!(t.watermark(LEAF), 11);
    kunit_assert_eq!(t.watermark(MID), 11);
    Ok(())
}

fn protected_usage_propagates_to_parent_children_sums() -> TestResult {
    let t = Tree::chain(true)?;
    set_c_field!(t, LEAF, min, 3);
    set_c_field!(t, LEAF, low, 5);
    set_c_field!(t, SIBLING, low, 10);
    set_c_field!(t, MID, min, 100);

    kunit_assert!(t.counter(LEAF).try_charge(4).is_ok());
    t.counter(SIBLING).charge(7);
    kunit_assert_eq!(c_field!(t, LEAF, min_usage.counter), 3);
    kunit_assert_eq!(c_field!(t, LEAF, low_usage.counter), 4);
    kunit_assert_eq!(c_field!(t, SIBLING, min_usage.counter), 0);
    kunit_assert_eq!(c_field!(t, SIBLING, low_usage.counter), 7);
    kunit_assert_eq!(c_field!(t, MID, children_min_usage.counter), 3);
    kunit_assert_eq!(c_field!(t, MID, children_low_usage.counter), 11);
    // The middle level's own protection goes one level further up.
    kunit_assert_eq!(c_field!(t, MID, min_usage.counter), 11);
    kunit_assert_eq!(c_field!(t, ROOT, children_min_usage.counter), 11);
    // The root has no parent to report to.
    kunit_assert_eq!(c_field!(t, ROOT, min_usage.counter), 0);

    t.counter(LEAF).uncharge(2);
    kunit_assert_eq!(c_field!(t, LEAF, min_usage.counter), 2);
    kunit_assert_eq!(c_field!(t, MID, children_min_usage.counter), 2);
    kunit_assert_eq!(c_field!(t, MID, children_low_usage.counter), 9);
    kunit_assert_eq!(c_field!(t, ROOT, children_min_usage.counter), 9);

    t.counter(LEAF).uncharge(2);
    t.counter(SIBLING).uncharge(7);
    kunit_assert_eq!(c_field!(t, MID, children_min_usage.counter), 0);
    kunit_assert_eq!(c_field!(t, MID, children_low_usage.counter), 0);
    kunit_assert_eq!(c_field!(t, ROOT, children_min_usage.counter), 0);
    Ok(())
}

fn counters_without_protection_support_do_not_propagate() -> TestResult {
    let t = Tree::chain(false)?;
    set_c_field!(t, LEAF, min, 3);
    t.counter(LEAF).charge(4);
    kunit_assert_eq!(c_field!(t, LEAF, min_usage.counter), 0);
    kunit_assert_eq!(c_field!(t, MID, children_min_usage.counter), 0);
    Ok(())
}

fn uncharge_below_zero_is_reported_and_clamped_to_zero() -> TestResult {
    let t = Tree::chain(false)?;
    let before = UNDERFLOWS.load(Ordering::Relaxed);
    t.counter(MID).charge(2);
    t.counter(LEAF).uncharge(3);
    kunit_assert_eq!(t.usages(), [0, 0, 0, 0]);
    kunit_assert_eq!(UNDERFLOWS.load(Ordering::Relaxed) - before, 3);
    // Clamped, not wrapped: the counters charge normally again.
    kunit_assert!(t.counter(LEAF).try_charge(4).is_ok());
    kunit_assert_eq!(t.usages(), [4, 4, 4, 0]);
    Ok(())
}

/// Online CPUs the concurrency test runs a worker on (`NR_CPUS` is 8 in our configs).
const MAX_WORKERS: usize = 8;
/// Charge rounds per worker.
const ROUNDS: usize = 100_000;
/// Pages each worker leaves charged at the end.
const KEEP: usize = 3;

/// A work item that charges and uncharges one counter from one CPU.
#[repr(C)]
struct Worker {
    /// First, so the work function finds its `Worker` from the `work_struct` pointer.
    work: Opaque<bindings::work_struct>,
    counter: *const TestCounter,
    seed: usize,
    refused: AtomicUsize,
    charged: AtomicUsize,
}

/// Lockdep class of the workers' work items.
struct WorkClass(Opaque<bindings::lock_class_key>);
// SAFETY: lockdep synchronises its use of a class key itself.
unsafe impl Sync for WorkClass {}
static WORK_CLASS: WorkClass = WorkClass(Opaque::uninit());

/// Work function of a [`Worker`]: charges and uncharges its counter for [`ROUNDS`] rounds,
/// then leaves [`KEEP`] pages charged and records what it did.
///
/// # Safety
///
/// `work` must be the `work` field of a [`Worker`] whose `counter` is valid, and the worker
/// must stay in place until the work item has been flushed.
unsafe extern "C" fn churn(work: *mut bindings::work_struct) {
    // SAFETY: `work` is the first field of a `repr(C)` `Worker` that stays in place while this
    // runs (caller's contract).
    let worker = unsafe { &*work.cast::<Worker>() };
    // SAFETY: `counter` is valid (caller's contract).
    let counter = unsafe { &*worker.counter };
    let (mut refused, mut charged) = (0, 0);
    for i in 0..ROUNDS {
        let nr = 1 + (i + worker.seed) % 5;
        if counter.try_charge(nr).is_ok() {
            counter.uncharge(nr);
        } else {
            refused += 1;
        }
        counter.charge(1);
        counter.uncharge(1);
        if i % 256 == 0 {
            // SAFETY: Work items run in process context and may sleep.
            unsafe { crate::shim::memcg_rs_cond_resched() };
        }
    }
    for _ in 0..KEEP {
        if counter.try_charge(1).is_ok() {
            charged += 1;
        } else {
            refused += 1;
            counter.charge(1);
            charged += 1;
        }
    }
    worker.refused.store(refused, Ordering::Relaxed);
    worker.charged.store(charged, Ordering::Relaxed);
}

/// Returns the online CPUs, at most [`MAX_WORKERS`] of them.
fn online_cpus() -> KVec<kernel::ffi::c_int> {
    const BITS: usize = usize::BITS as usize;
    let mut cpus = KVec::new();
    // SAFETY: `nr_cpu_ids` is set during boot and read-only afterwards.
    let nr_cpu_ids = unsafe { bindings::nr_cpu_ids } as usize;
    for cpu in 0..nr_cpu_ids.min(MAX_WORKERS) {
        // SAFETY: `__cpu_online_mask` is a static bitmap of at least `nr_cpu_ids` bits, updated
        // with atomic bit operations; a word-sized read is what `cpu_online()` does.
        let word = unsafe {
            let bits = core::ptr::addr_of!(bindings::__cpu_online_mask.bits).cast::<usize>();
            core::ptr::read_volatile(bits.add(cpu / BITS))
        };
        if word & (1 << (cpu % BITS)) != 0
            && cpus.push(cpu as kernel::ffi::c_int, GFP_KERNEL).is_err()
        {
            break;
        }
    }
    cpus
}

fn concurrent_charges_from_all_cpus_leave_exact_usage() -> TestResult {
    let t = Tree::chain(true)?;
    // Tight limits: a 5-page charge on LEAF is always refused, and MID refuses under contention,
    // unwinding the sibling.
    t.set_max(MID, 8);
    t.set_max(LEAF, 4);
    set_c_field!(t, LEAF, min, 2);
    set_c_field!(t, SIBLING, low, 4);

    let cpus = online_cpus();
    kunit_assert!(!cpus.is_empty());
    let leaves = [LEAF, SIBLING];
    let mut workers = KVec::with_capacity(cpus.len(), GFP_KERNEL).map_err(|_| Failed)?;
    for (n, _) in cpus.iter().enumerate() {
        let worker = Worker {
            work: Opaque::uninit(),
            counter: t.counter(leaves[n % 2]),
            seed: n,
            refused: AtomicUsize::new(0),
            charged: AtomicUsize::new(0),
        };
        workers.push(worker, GFP_KERNEL).map_err(|_| Failed)?;
    }
    // No push after this point: the work items must not move once initialised.
    for (worker, &cpu) in workers.iter().zip(cpus.iter()) {
        // SAFETY: `worker.work` is valid for writes; the name is a static C string and the
        // class key a static. `churn` gets the `work` field of a `Worker` whose counter is in
        // `t`, and neither the workers (no more pushes) nor `t` go away before the flushes below.
        unsafe {
            bindings::init_work_with_key(
                worker.work.get(),
                Some(churn),
                false,
                kernel::c_str!("memcg_rs_page_counter_churn").as_char_ptr(),
                WORK_CLASS.0.get(),
            );
            bindings::queue_work_on(cpu, bindings::system_wq, worker.work.get());
        }
    }
    for worker in workers.iter() {
        // SAFETY: The work item was initialised and queued above and is still in place.
        unsafe { bindings::flush_work(worker.work.get()) };
    }

    let (mut kept, mut refused) = ([0i64; NODES], 0);
    for (n, worker) in workers.iter().enumerate() {
        kept[leaves[n % 2]] += worker.charged.load(Ordering::Relaxed) as i64;
        refused += worker.refused.load(Ordering::Relaxed);
    }
    pr_info!(
        "    # {} workers, {} refused charges\n",
        workers.len(),
        refused
    );
    kunit_assert!(refused >= ROUNDS / 5);
    let total = kept[LEAF] + kept[SIBLING];
    kunit_assert_eq!(total, (workers.len() * KEEP) as i64);
    kunit_assert_eq!(t.usages(), [total, total, kept[LEAF], kept[SIBLING]]);
    let failcnt: usize = t.failcnts().iter().sum();
    kunit_assert_eq!(failcnt, refused);
    kunit_assert!(t.watermark(ROOT) as i64 >= total);
    for i in 0..NODES {
        kunit_assert!(t.watermark(i) >= t.local_watermark(i));
    }
    kunit_assert_eq!(
        c_field!(t, MID, children_min_usage.counter),
        c_field!(t, LEAF, min_usage.counter) + c_field!(t, SIBLING, min_usage.counter)
    );
    kunit_assert_eq!(
        c_field!(t, MID, children_low_usage.counter),
        c_field!(t, LEAF, low_usage.counter) + c_field!(t, SIBLING, low_usage.counter)
    );

    let before = UNDERFLOWS.load(Ordering::Relaxed);
    t.counter(LEAF).uncharge(kept[LEAF] as usize);
    t.counter(SIBLING).uncharge(kept[SIBLING] as usize);
    kunit_assert_eq!(t.usages(), [0, 0, 0, 0]);
    kunit_assert_eq!(UNDERFLOWS.load(Ordering::Relaxed), before);
    Ok(())
}

kunit_suite!(
    PAGE_COUNTER_SUITE,
    "memcg_rs_page_counter",
    [
        try_charge_within_limits_charges_every_level,
        try_charge_up_to_max_succeeds_at_every_level_and_one_page_more_fails,
        charge_over_max_at_middle_fails_and_unwinds_the_leaf,
        charge_over_max_at_root_fails_and_unwinds_leaf_and_middle,
        forced_charge_goes_over_max_without_counting_a_failure,
        failcnt_counts_each_refusal_once_at_the_refusing_level,
        watermark_keeps_peak_and_local_watermark_restarts_after_reset,
        protected_usage_propagates_to_parent_children_sums,
        counters_without_protection_support_do_not_propagate,
        uncharge_below_zero_is_reported_and_clamped_to_zero,
        concurrent_charges_from_all_cpus_leave_exact_usage,
    ]
);
