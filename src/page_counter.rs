// SPDX-License-Identifier: GPL-2.0

//! The kernel's `struct page_counter`, charged by the lock-free algorithm of
//! [`crate::page_counter_algo`].
//!
//! The module charges the same counters that C reads and uncharges (`memory.current`,
//! `memory.max`, `memory.peak`, `memory.min`/`low` propagation, `failcnt`), so it works on the
//! C fields in place: each `atomic_long_t` is used as an [`AtomicIsize`] and each shared
//! `unsigned long` as an [`AtomicUsize`]. On every Linux ABI `long` and `isize` have the same
//! size and alignment (checked at compile time below), and word-sized atomic loads and stores
//! are what C's `READ_ONCE()`/`WRITE_ONCE()` and `atomic_long_*()` compile to, so Rust and C
//! accesses to one field are coherent with each other.

use crate::page_counter_algo::{self, CounterLevel};
use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use kernel::bindings;
use kernel::prelude::*;
use kernel::types::Opaque;

static_assert!(size_of::<bindings::atomic_long_t>() == size_of::<AtomicIsize>());
static_assert!(align_of::<bindings::atomic_long_t>() == align_of::<AtomicIsize>());
static_assert!(size_of::<kernel::ffi::c_ulong>() == size_of::<AtomicUsize>());
static_assert!(align_of::<kernel::ffi::c_ulong>() == align_of::<AtomicUsize>());

/// `PAGE_COUNTER_MAX`: the largest `max` a page counter takes (`memory.max` of "max").
pub(crate) const PAGE_COUNTER_MAX: usize = isize::MAX as usize / bindings::PAGE_SIZE;

/// How an uncharge that takes a counter below zero is reported.
pub(crate) trait UnderflowReport {
    /// Called once per level that went below zero, with the (negative) result before the
    /// clamp and the number of pages uncharged.
    fn report(new: isize, nr_pages: usize);
}

/// Reports the first underflow since boot with a `WARN_ONCE()`, like C's
/// `page_counter_cancel()`; the C shim issues it, as 6.12 has no `WARN` for Rust.
pub(crate) enum WarnOnce {}

impl UnderflowReport for WarnOnce {
    fn report(new: isize, nr_pages: usize) {
        // SAFETY: `memcg_rs_warn_underflow()` takes plain integers and may be called in any
        // context, like `WARN_ONCE()`.
        unsafe { crate::shim::memcg_rs_warn_underflow(new as _, nr_pages as _) };
    }
}

/// A `struct page_counter` owned by C (for example `memcg->memory`).
///
/// `R` decides how an underflow is reported; KUnit tests that cause underflows on purpose use
/// their own reporter so the one-time warning stays available for real bugs.
///
/// # Invariants
///
/// The counter was initialised as `page_counter_init()` does, so `parent` and
/// `protection_support` no longer change, and it stays valid, together with all its ancestors,
/// as long as a reference to this type exists. Its `atomic_long_t` fields are only accessed
/// atomically, and its `unsigned long` fields only with word-sized accesses (`READ_ONCE()`,
/// `WRITE_ONCE()`, `xchg()` or plain aligned loads and stores).
#[repr(transparent)]
pub(crate) struct PageCounter<R: UnderflowReport = WarnOnce> {
    inner: Opaque<bindings::page_counter>,
    _report: PhantomData<R>,
}

// SAFETY: Every field shared after initialisation is accessed atomically (type invariant), so
// any CPU may use a counter, and references to it, concurrently.
unsafe impl<R: UnderflowReport> Sync for PageCounter<R> {}
// SAFETY: A `PageCounter` is only ever used by reference; C owns the memory.
unsafe impl<R: UnderflowReport> Send for PageCounter<R> {}

/// Returns a field of the counter as the atomic type `$atomic` over the field's own storage.
macro_rules! atomic_field {
    ($self:ident, $field:ident, $atomic:ty) => {{
        let counter = $self.inner.get();
        // SAFETY: `counter` points to a valid `page_counter` for the lifetime of `$self` (type
        // invariant), so projecting to a field stays in bounds. The field has the size and
        // alignment of `$atomic` (static assertions above), lives as long as `$self`, and is
        // only accessed atomically or with word-sized accesses (type invariant).
        unsafe { <$atomic>::from_ptr(core::ptr::addr_of_mut!((*counter).$field).cast()) }
    }};
}

impl<R: UnderflowReport> PageCounter<R> {
    /// Returns the counter at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a `struct page_counter` initialised as `page_counter_init()` does,
    /// which, together with all its ancestors, stays valid for `'a` and is accessed by others
    /// only as the type invariants of [`PageCounter`] describe.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::page_counter) -> &'a Self {
        // SAFETY: `PageCounter` is `repr(transparent)` over `Opaque<page_counter>`, which has
        // the layout of `page_counter`; the caller guarantees validity for `'a` and the
        // invariants.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// Returns the raw pointer to the C counter, for C functions that take one.
    pub(crate) fn as_ptr(&self) -> *mut bindings::page_counter {
        self.inner.get()
    }

    /// Pages charged to this counter and its descendants (`page_counter_read()`).
    pub(crate) fn usage(&self) -> usize {
        page_counter_algo::read(self)
    }

    /// The limit a non-forced charge may not exceed (`READ_ONCE(counter->max)`).
    pub(crate) fn max(&self) -> usize {
        atomic_field!(self, max, AtomicUsize).load(Ordering::Relaxed)
    }

    /// Charges `nr_pages` to this counter and all its ancestors unless that takes one of them
    /// above its `max` (`page_counter_try_charge()`).
    ///
    /// On failure returns the counter over its limit (`mem_over_limit`); nothing is charged
    /// then and that counter's `failcnt` is incremented.
    pub(crate) fn try_charge(&self, nr_pages: usize) -> Result<(), &Self> {
        page_counter_algo::try_charge(self, nr_pages)
    }

    /// Charges `nr_pages` to this counter and all its ancestors regardless of their limits
    /// (`page_counter_charge()`).
    pub(crate) fn charge(&self, nr_pages: usize) {
        page_counter_algo::charge(self, nr_pages)
    }

    /// Uncharges `nr_pages` from this counter and all its ancestors
    /// (`page_counter_uncharge()`). A level that would go below zero is reported and clamped.
    pub(crate) fn uncharge(&self, nr_pages: usize) {
        page_counter_algo::uncharge(self, nr_pages)
    }
}

impl<R: UnderflowReport> CounterLevel for PageCounter<R> {
    type Long = AtomicIsize;
    type ULong = AtomicUsize;

    fn usage(&self) -> &AtomicIsize {
        atomic_field!(self, usage, AtomicIsize)
    }

    fn min_usage(&self) -> &AtomicIsize {
        atomic_field!(self, min_usage, AtomicIsize)
    }

    fn children_min_usage(&self) -> &AtomicIsize {
        atomic_field!(self, children_min_usage, AtomicIsize)
    }

    fn low_usage(&self) -> &AtomicIsize {
        atomic_field!(self, low_usage, AtomicIsize)
    }

    fn children_low_usage(&self) -> &AtomicIsize {
        atomic_field!(self, children_low_usage, AtomicIsize)
    }

    fn watermark(&self) -> &AtomicUsize {
        atomic_field!(self, watermark, AtomicUsize)
    }

    fn local_watermark(&self) -> &AtomicUsize {
        atomic_field!(self, local_watermark, AtomicUsize)
    }

    fn failcnt(&self) -> &AtomicUsize {
        atomic_field!(self, failcnt, AtomicUsize)
    }

    fn min(&self) -> &AtomicUsize {
        atomic_field!(self, min, AtomicUsize)
    }

    fn low(&self) -> &AtomicUsize {
        atomic_field!(self, low, AtomicUsize)
    }

    fn max(&self) -> &AtomicUsize {
        atomic_field!(self, max, AtomicUsize)
    }

    fn protection_support(&self) -> bool {
        // SAFETY: The counter is valid (type invariant) and `protection_support` is written
        // only before the counter is shared, so this read races with no write.
        unsafe { (*self.inner.get()).protection_support }
    }

    fn parent(&self) -> Option<&Self> {
        // SAFETY: As for `protection_support`: `parent` does not change once initialised.
        let parent = unsafe { (*self.inner.get()).parent };
        // SAFETY: A non-null parent is an initialised counter that outlives `self` (type
        // invariant), and its own ancestors are `self`'s.
        NonNull::new(parent).map(|p| unsafe { Self::from_raw(p.as_ptr()) })
    }

    fn report_underflow(&self, new: isize, nr_pages: usize) {
        R::report(new, nr_pages);
    }
}
