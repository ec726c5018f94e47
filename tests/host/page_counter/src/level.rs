// SPDX-License-Identifier: GPL-2.0

//! A counter level in host memory: the fields of `struct page_counter` as Rust atomics.
//!
//! Without `--cfg loom` the fields are `core` atomics, the same types the kernel wrapper hands
//! the algorithm. Under loom they are loom atomics wrapped to model what loom leaves out.

use crate::page_counter_algo::{AtomicLong, AtomicULong, CounterLevel};
use std::sync::atomic::Ordering;
use std::sync::Arc;

#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{AtomicIsize as Long, AtomicUsize as ULong};
#[cfg(loom)]
pub(crate) use model::{Long, ULong};

/// `PAGE_COUNTER_MAX` on 64-bit with 4 KiB pages.
pub(crate) const PAGE_COUNTER_MAX: usize = isize::MAX as usize / 4096;

/// One level of a host page counter hierarchy; the parent is shared with siblings.
pub(crate) struct Level {
    pub(crate) usage: Long,
    pub(crate) min_usage: Long,
    pub(crate) children_min_usage: Long,
    pub(crate) low_usage: Long,
    pub(crate) children_low_usage: Long,
    pub(crate) watermark: ULong,
    pub(crate) local_watermark: ULong,
    pub(crate) failcnt: ULong,
    pub(crate) min: ULong,
    pub(crate) low: ULong,
    pub(crate) max: ULong,
    pub(crate) protection_support: bool,
    pub(crate) parent: Option<Arc<Level>>,
    /// How often the algorithm reported an underflow (C would WARN).
    pub(crate) underflows: std::sync::atomic::AtomicUsize,
}

impl Level {
    /// A level initialised like `page_counter_init()` does, with `max` set.
    pub(crate) fn new(
        parent: Option<&Arc<Level>>,
        max: usize,
        protection_support: bool,
    ) -> Arc<Self> {
        Self::with_model(parent, max, protection_support, Fidelity::Faithful)
    }

    /// Like [`Level::new`], choosing how loom models `SeqCst` (ignored without loom).
    pub(crate) fn with_model(
        parent: Option<&Arc<Level>>,
        max: usize,
        protection_support: bool,
        fidelity: Fidelity,
    ) -> Arc<Self> {
        let long = || Long::new_model(0, fidelity);
        let ulong = |v| ULong::new_model(v, fidelity);
        Arc::new(Level {
            usage: long(),
            min_usage: long(),
            children_min_usage: long(),
            low_usage: long(),
            children_low_usage: long(),
            watermark: ulong(0),
            local_watermark: ulong(0),
            failcnt: ulong(0),
            min: ulong(0),
            low: ulong(0),
            max: ulong(max),
            protection_support,
            parent: parent.cloned(),
            underflows: Default::default(),
        })
    }

    pub(crate) fn usage(&self) -> isize {
        AtomicLong::load(&self.usage, Ordering::Relaxed)
    }

    pub(crate) fn get(field: &ULong) -> usize {
        AtomicULong::load(field, Ordering::Relaxed)
    }

    pub(crate) fn get_long(field: &Long) -> isize {
        AtomicLong::load(field, Ordering::Relaxed)
    }

    pub(crate) fn set(field: &ULong, val: usize) {
        field.store(val, Ordering::Relaxed)
    }

    /// What 6.12's `memory_max_write()` does before it reclaims: a fully ordered
    /// `xchg(&max, new)`, then a read of the usage. Returns that usage.
    pub(crate) fn write_max(&self, new: usize) -> isize {
        self.max.swap_full(new);
        AtomicLong::load(&self.usage, Ordering::Relaxed)
    }

    /// Per-fd `memory.peak` reset (`peak_write()`): `local_watermark = usage`.
    pub(crate) fn reset_local_watermark(&self) {
        Self::set(&self.local_watermark, self.usage() as usize);
    }
}

/// How loom should treat the algorithm's `SeqCst` accesses.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Fidelity {
    /// As C11 (and the hardware) do: see `model`.
    Faithful,
    /// As if they were `Relaxed`: a negative control that must make the max-race model fail.
    #[cfg_attr(not(loom), allow(dead_code))]
    WeakenSeqCst,
}

#[cfg(not(loom))]
mod plain {
    use super::{Fidelity, Long, ULong};
    use std::sync::atomic::Ordering;

    pub(crate) trait NewModel<T> {
        fn new_model(v: T, fidelity: Fidelity) -> Self;
    }

    impl NewModel<isize> for Long {
        fn new_model(v: isize, _: Fidelity) -> Self {
            Long::new(v)
        }
    }

    impl NewModel<usize> for ULong {
        fn new_model(v: usize, _: Fidelity) -> Self {
            ULong::new(v)
        }
    }

    pub(crate) trait SwapFull {
        fn swap_full(&self, v: usize) -> usize;
    }

    impl SwapFull for ULong {
        fn swap_full(&self, v: usize) -> usize {
            self.swap(v, Ordering::SeqCst)
        }
    }
}
#[cfg(not(loom))]
use plain::{NewModel, SwapFull};

#[cfg(loom)]
mod model {
    //! Loom atomics with `SeqCst` restored.
    //!
    //! loom treats a `SeqCst` access as `AcqRel` (see its README), which would report the
    //! store-buffering outcome that C11 `SeqCst` forbids. A `SeqCst` read-modify-write or store
    //! is therefore followed by `fence(SeqCst)` and a `SeqCst` load preceded by one, which loom
    //! does model. That is also what the kernel side guarantees: fully ordered atomics such as
    //! `xchg()` imply `smp_mb()` before and after.

    use super::Fidelity;
    use crate::page_counter_algo::{AtomicLong, AtomicULong};
    use loom::sync::atomic::{fence, AtomicIsize, AtomicUsize};
    use std::sync::atomic::Ordering;

    pub(crate) struct Long(AtomicIsize, Fidelity);
    pub(crate) struct ULong(AtomicUsize, Fidelity);

    impl Long {
        pub(crate) fn new_model(v: isize, fidelity: Fidelity) -> Self {
            Long(AtomicIsize::new(v), fidelity)
        }
    }

    impl ULong {
        pub(crate) fn new_model(v: usize, fidelity: Fidelity) -> Self {
            ULong(AtomicUsize::new(v), fidelity)
        }

        /// A store by C (`WRITE_ONCE()`), or by a test setting up a level.
        pub(crate) fn store(&self, v: usize, order: Ordering) {
            rmw(order, self.1, |o| self.0.store(v, o))
        }

        pub(crate) fn swap_full(&self, v: usize) -> usize {
            fence(Ordering::SeqCst);
            let old = self.0.swap(v, Ordering::SeqCst);
            fence(Ordering::SeqCst);
            old
        }
    }

    fn effective(order: Ordering, fidelity: Fidelity) -> Ordering {
        match (order, fidelity) {
            (Ordering::SeqCst, Fidelity::WeakenSeqCst) => Ordering::Relaxed,
            _ => order,
        }
    }

    fn faithful_seqcst(order: Ordering, fidelity: Fidelity) -> bool {
        order == Ordering::SeqCst && fidelity == Fidelity::Faithful
    }

    fn rmw<T>(order: Ordering, fidelity: Fidelity, op: impl FnOnce(Ordering) -> T) -> T {
        let r = op(effective(order, fidelity));
        if faithful_seqcst(order, fidelity) {
            fence(Ordering::SeqCst);
        }
        r
    }

    fn load<T>(order: Ordering, fidelity: Fidelity, op: impl FnOnce(Ordering) -> T) -> T {
        if faithful_seqcst(order, fidelity) {
            fence(Ordering::SeqCst);
        }
        op(effective(order, fidelity))
    }

    impl AtomicLong for Long {
        fn load(&self, order: Ordering) -> isize {
            load(order, self.1, |o| self.0.load(o))
        }

        fn store(&self, val: isize, order: Ordering) {
            rmw(order, self.1, |o| self.0.store(val, o))
        }

        fn fetch_add(&self, val: isize, order: Ordering) -> isize {
            rmw(order, self.1, |o| self.0.fetch_add(val, o))
        }

        fn fetch_sub(&self, val: isize, order: Ordering) -> isize {
            rmw(order, self.1, |o| self.0.fetch_sub(val, o))
        }

        fn swap(&self, val: isize, order: Ordering) -> isize {
            rmw(order, self.1, |o| self.0.swap(val, o))
        }
    }

    impl AtomicULong for ULong {
        fn load(&self, order: Ordering) -> usize {
            load(order, self.1, |o| self.0.load(o))
        }

        fn fetch_add(&self, val: usize, order: Ordering) -> usize {
            rmw(order, self.1, |o| self.0.fetch_add(val, o))
        }

        fn compare_exchange_weak(
            &self,
            current: usize,
            new: usize,
            success: Ordering,
            failure: Ordering,
        ) -> Result<usize, usize> {
            let (s, f) = (effective(success, self.1), effective(failure, self.1));
            rmw(success, self.1, |_| {
                self.0.compare_exchange_weak(current, new, s, f)
            })
        }
    }
}

impl CounterLevel for Level {
    type Long = Long;
    type ULong = ULong;

    fn usage(&self) -> &Long {
        &self.usage
    }
    fn min_usage(&self) -> &Long {
        &self.min_usage
    }
    fn children_min_usage(&self) -> &Long {
        &self.children_min_usage
    }
    fn low_usage(&self) -> &Long {
        &self.low_usage
    }
    fn children_low_usage(&self) -> &Long {
        &self.children_low_usage
    }
    fn watermark(&self) -> &ULong {
        &self.watermark
    }
    fn local_watermark(&self) -> &ULong {
        &self.local_watermark
    }
    fn failcnt(&self) -> &ULong {
        &self.failcnt
    }
    fn min(&self) -> &ULong {
        &self.min
    }
    fn low(&self) -> &ULong {
        &self.low
    }
    fn max(&self) -> &ULong {
        &self.max
    }
    fn protection_support(&self) -> bool {
        self.protection_support
    }
    fn parent(&self) -> Option<&Self> {
        self.parent.as_deref()
    }
    fn report_underflow(&self, new: isize, nr_pages: usize) {
        assert!(
            new < 0,
            "underflow reported for usage {new} (nr_pages {nr_pages})"
        );
        self.underflows.fetch_add(1, Ordering::Relaxed);
    }
}
