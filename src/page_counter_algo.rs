// SPDX-License-Identifier: GPL-2.0

//! Lock-free hierarchical page counting and limiting.
//!
//! The algorithm of `mm/page_counter.c` (6.12), written once over a storage trait so the same
//! code runs on the kernel's `struct page_counter` (see `page_counter.rs`) and on host and loom
//! models (`tests/host/page_counter`). This file uses `core` only.
//!
//! A hierarchy is a chain of levels, child to root. Charging adds to every level with one atomic
//! read-modify-write each and never takes a lock; a level whose new usage is above its `max`
//! refuses the charge, and the levels already charged are unwound.
//!
//! # Memory ordering
//!
//! Only one ordering requirement is stronger than `Relaxed`: a charge must not slip past a
//! concurrent `memory.max` write unnoticed. 6.12's `memory_max_write()` does
//! `xchg(&max, new)` (fully ordered) and then reads `usage`; [`try_charge`] adds to `usage` and
//! then reads `max`. That is the store-buffering pattern: with the usage add and the max load
//! both `SeqCst` here and the full barrier of `xchg` on the C side, at least one side sees the
//! other, so either the charge sees the new limit (and fails) or the writer sees the charged
//! usage (and keeps reclaiming). Everything else is a single-location atomic (exact by modification
//! order alone) or a statistic that C itself reads racily; see each operation.
//!
//! `Documentation/page-counter.rst` spells out the full argument.

use core::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

/// An atomic C `long`: `atomic_long_t` in the kernel.
///
/// The operations mean what the `core::sync::atomic::AtomicIsize` methods of the same name mean.
pub(crate) trait AtomicLong {
    /// Loads the value.
    fn load(&self, order: Ordering) -> isize;
    /// Stores `val`.
    fn store(&self, val: isize, order: Ordering);
    /// Adds `val`, returning the previous value.
    fn fetch_add(&self, val: isize, order: Ordering) -> isize;
    /// Subtracts `val`, returning the previous value.
    fn fetch_sub(&self, val: isize, order: Ordering) -> isize;
    /// Stores `val`, returning the previous value.
    fn swap(&self, val: isize, order: Ordering) -> isize;
}

/// An `unsigned long` of `struct page_counter` that is shared without a lock.
///
/// C reads and writes these fields with `READ_ONCE()`/`WRITE_ONCE()` or plain word-sized
/// accesses; `Relaxed` atomics are the Rust equivalent. The operations mean what the
/// `core::sync::atomic::AtomicUsize` methods of the same name mean.
pub(crate) trait AtomicULong {
    /// Loads the value.
    fn load(&self, order: Ordering) -> usize;
    /// Adds `val`, returning the previous value.
    fn fetch_add(&self, val: usize, order: Ordering) -> usize;
    /// Stores `new` if the value is `current`; may fail spuriously.
    fn compare_exchange_weak(
        &self,
        current: usize,
        new: usize,
        success: Ordering,
        failure: Ordering,
    ) -> Result<usize, usize>;
}

impl AtomicLong for AtomicIsize {
    #[inline]
    fn load(&self, order: Ordering) -> isize {
        AtomicIsize::load(self, order)
    }

    #[inline]
    fn store(&self, val: isize, order: Ordering) {
        AtomicIsize::store(self, val, order)
    }

    #[inline]
    fn fetch_add(&self, val: isize, order: Ordering) -> isize {
        AtomicIsize::fetch_add(self, val, order)
    }

    #[inline]
    fn fetch_sub(&self, val: isize, order: Ordering) -> isize {
        AtomicIsize::fetch_sub(self, val, order)
    }

    #[inline]
    fn swap(&self, val: isize, order: Ordering) -> isize {
        AtomicIsize::swap(self, val, order)
    }
}

impl AtomicULong for AtomicUsize {
    #[inline]
    fn load(&self, order: Ordering) -> usize {
        AtomicUsize::load(self, order)
    }

    #[inline]
    fn fetch_add(&self, val: usize, order: Ordering) -> usize {
        AtomicUsize::fetch_add(self, val, order)
    }

    #[inline]
    fn compare_exchange_weak(
        &self,
        current: usize,
        new: usize,
        success: Ordering,
        failure: Ordering,
    ) -> Result<usize, usize> {
        AtomicUsize::compare_exchange_weak(self, current, new, success, failure)
    }
}

/// One level of a page counter hierarchy: the fields of `struct page_counter` this algorithm
/// touches, and the link to the parent level.
///
/// Field names and meanings are those of `include/linux/page_counter.h`. `protection_support`
/// and `parent` are fixed when the counter is initialised; everything else may change
/// concurrently.
pub(crate) trait CounterLevel {
    /// Storage of an `atomic_long_t` field.
    type Long: AtomicLong;
    /// Storage of an `unsigned long` field.
    type ULong: AtomicULong;

    /// Pages charged to this level and its descendants.
    fn usage(&self) -> &Self::Long;
    /// The part of `usage` protected by this level's `min`, as last propagated to the parent.
    fn min_usage(&self) -> &Self::Long;
    /// Sum of the children's `min_usage`.
    fn children_min_usage(&self) -> &Self::Long;
    /// The part of `usage` protected by this level's `low`, as last propagated to the parent.
    fn low_usage(&self) -> &Self::Long;
    /// Sum of the children's `low_usage`.
    fn children_low_usage(&self) -> &Self::Long;
    /// Highest usage since creation or the last global reset (`memory.peak`).
    fn watermark(&self) -> &Self::ULong;
    /// Highest usage since the last per-fd `memory.peak` reset; never above `watermark`.
    fn local_watermark(&self) -> &Self::ULong;
    /// Number of charges this level refused.
    fn failcnt(&self) -> &Self::ULong;
    /// `memory.min`.
    fn min(&self) -> &Self::ULong;
    /// `memory.low`.
    fn low(&self) -> &Self::ULong;
    /// `memory.max`: the usage a non-forced charge may not exceed.
    fn max(&self) -> &Self::ULong;
    /// Whether charges starting here maintain `min_usage`/`low_usage` (set for `memcg->memory`).
    fn protection_support(&self) -> bool;
    /// The parent level, `None` for the root.
    fn parent(&self) -> Option<&Self>;
    /// Reports that an uncharge took `usage` below zero (`new` is the negative result before
    /// the clamp). C reports this with `WARN_ONCE()`.
    fn report_underflow(&self, new: isize, nr_pages: usize);
}

/// Returns the number of pages charged to `counter` (`page_counter_read()`).
///
/// `Relaxed`: a snapshot for statistics and reclaim heuristics, like C's `atomic_long_read()`.
#[inline]
pub(crate) fn read<C: CounterLevel>(counter: &C) -> usize {
    counter.usage().load(Ordering::Relaxed) as usize
}

/// Publishes the protected part of `usage` to the parent's `children_{min,low}_usage`.
///
/// The swap returns exactly what this level contributed before, so the parent's sum equals the
/// sum of its children's `*_usage` once updates quiesce, however they interleave. Two racing
/// updates may leave `*_usage` computed from the older usage; like C, the next charge or
/// uncharge corrects it, and reclaim reads these as estimates anyway. All `Relaxed`: no other
/// memory is published through these fields.
fn propagate_protected_usage<C: CounterLevel>(counter: &C, usage: usize) {
    let Some(parent) = counter.parent() else {
        return;
    };
    propagate_one(
        usage,
        counter.min(),
        counter.min_usage(),
        parent.children_min_usage(),
    );
    propagate_one(
        usage,
        counter.low(),
        counter.low_usage(),
        parent.children_low_usage(),
    );
}

fn propagate_one<L: AtomicLong, U: AtomicULong>(
    usage: usize,
    setting: &U,
    protected_usage: &L,
    parent_children_usage: &L,
) {
    // At most `usage`, which is at most `isize::MAX`.
    let protected = usage.min(setting.load(Ordering::Relaxed)) as isize;
    // The swap is a locked instruction; most charges do not change the protected amount.
    if protected_usage.load(Ordering::Relaxed) == protected {
        return;
    }
    let old = protected_usage.swap(protected, Ordering::Relaxed);
    let delta = protected.wrapping_sub(old);
    if delta != 0 {
        parent_children_usage.fetch_add(delta, Ordering::Relaxed);
    }
}

/// Raises `memory.peak` to `new` if it is higher.
///
/// The common case (not a new peak) costs two plain loads and no atomic read-modify-write.
/// Raising uses compare-exchange, so a racing lower peak cannot overwrite a higher one: after a
/// charge returns, both watermarks are at least the usage it produced, unless a `memory.peak`
/// reset intervened. (C uses a plain store here and accepts losing such a race.)
///
/// `local_watermark` is raised first and `watermark` checked only when `local_watermark` was
/// passed: resets set `local_watermark` no higher than `watermark`, so `watermark >=
/// local_watermark` keeps holding once both updates are done, which is what `peak_show()`
/// assumes. `Relaxed`: the watermarks publish nothing; C reads them with `READ_ONCE()`.
fn raise_watermarks<C: CounterLevel>(counter: &C, new: usize) {
    if !raise_to(counter.local_watermark(), new) {
        return;
    }
    raise_to(counter.watermark(), new);
}

/// Raises `mark` to at least `new`; returns whether `new` was above the value first seen.
fn raise_to<U: AtomicULong>(mark: &U, new: usize) -> bool {
    let mut cur = mark.load(Ordering::Relaxed);
    if new <= cur {
        return false;
    }
    loop {
        match mark.compare_exchange_weak(cur, new, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return true,
            Err(seen) if seen >= new => return true,
            Err(seen) => cur = seen,
        }
    }
}

/// Takes `nr_pages` out of `counter` alone (`page_counter_cancel()`).
///
/// A result below zero means more uncharges than charges: it is reported through
/// [`CounterLevel::report_underflow`] and clamped to zero, so usage never wraps to a huge
/// value that would block every later charge. The clamp is a plain store and may erase a
/// racing charge, as in C; the counter is already wrong at that point.
///
/// `Relaxed`: uncharging publishes nothing, and any charge that follows reads the latest value
/// in `usage`'s modification order, so it sees this uncharge if it comes later in that order.
pub(crate) fn cancel<C: CounterLevel>(counter: &C, nr_pages: usize) {
    let mut new = counter
        .usage()
        .fetch_sub(nr_pages as isize, Ordering::Relaxed)
        .wrapping_sub(nr_pages as isize);
    if new < 0 {
        counter.report_underflow(new, nr_pages);
        new = 0;
        counter.usage().store(new, Ordering::Relaxed);
    }
    if counter.protection_support() {
        propagate_protected_usage(counter, new as usize);
    }
}

/// Charges `nr_pages` to `counter` and all its ancestors, ignoring `max`
/// (`page_counter_charge()`).
///
/// `Relaxed` add: the charge must happen whatever `max` is, so there is no limit check to order
/// against; the count itself is exact by modification order.
pub(crate) fn charge<C: CounterLevel>(counter: &C, nr_pages: usize) {
    let protection = counter.protection_support();
    let mut level = Some(counter);
    while let Some(c) = level {
        let new = c
            .usage()
            .fetch_add(nr_pages as isize, Ordering::Relaxed)
            .wrapping_add(nr_pages as isize) as usize;
        if protection {
            propagate_protected_usage(c, new);
        }
        raise_watermarks(c, new);
        level = c.parent();
    }
}

/// Charges `nr_pages` to `counter` and all its ancestors unless that takes a level above its
/// `max` (`page_counter_try_charge()`).
///
/// On failure returns the first level, walking up, that refused; its `failcnt` has been
/// incremented and no level holds any of the charge any more.
///
/// Each level is charged speculatively with one add and the add taken back on overshoot,
/// instead of a compare-exchange loop. A refused large charge can therefore briefly lock out
/// a smaller racing one, which then reclaims early; the error is bounded by the larger charge.
pub(crate) fn try_charge<C: CounterLevel>(counter: &C, nr_pages: usize) -> Result<(), &C> {
    let protection = counter.protection_support();
    let mut level = Some(counter);
    while let Some(c) = level {
        // SeqCst add, then SeqCst load of `max`: the store-buffering pair against
        // memory_max_write()'s fully ordered xchg(&max) followed by its read of usage. Either
        // this load sees the new max, or that read sees this add and the writer reclaims it.
        let new = c
            .usage()
            .fetch_add(nr_pages as isize, Ordering::SeqCst)
            .wrapping_add(nr_pages as isize);
        // Unsigned compare, as in C: a negative (corrupt) usage refuses every charge.
        if new as usize > c.max().load(Ordering::SeqCst) {
            // Relaxed: taking back our own add, nothing to order.
            c.usage().fetch_sub(nr_pages as isize, Ordering::Relaxed);
            // A statistic; Relaxed. Atomic, unlike C's data_race(failcnt++): this is the slow
            // path (reclaim follows), and the count stays exact among Rust chargers.
            c.failcnt().fetch_add(1, Ordering::Relaxed);
            unwind(counter, c, nr_pages);
            return Err(c);
        }
        if protection {
            propagate_protected_usage(c, new as usize);
        }
        raise_watermarks(c, new as usize);
        level = c.parent();
    }
    Ok(())
}

/// Cancels `nr_pages` from `counter` and its ancestors below `failed`.
fn unwind<C: CounterLevel>(counter: &C, failed: &C, nr_pages: usize) {
    let mut level = Some(counter);
    while let Some(c) = level {
        if core::ptr::eq(c, failed) {
            return;
        }
        cancel(c, nr_pages);
        level = c.parent();
    }
}

/// Uncharges `nr_pages` from `counter` and all its ancestors (`page_counter_uncharge()`).
pub(crate) fn uncharge<C: CounterLevel>(counter: &C, nr_pages: usize) {
    let mut level = Some(counter);
    while let Some(c) = level {
        cancel(c, nr_pages);
        level = c.parent();
    }
}
