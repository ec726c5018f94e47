// SPDX-License-Identifier: GPL-2.0

//! The memory cgroups memcg-rs charges: a thin wrapper over `struct mem_cgroup`.

use crate::page_counter::PageCounter;
use core::ptr::NonNull;
use kernel::bindings;

/// A `struct mem_cgroup`, borrowed from the C side.
///
/// # Invariants
///
/// The pointer is a live memcg for as long as the `&MemCgroup` is used: the caller of the
/// charge operation holds a css reference (or an RCU read lock) for the duration of the call.
#[repr(transparent)]
pub(crate) struct MemCgroup(bindings::mem_cgroup);

impl MemCgroup {
    /// Borrows the memcg `ptr` points to.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a live `struct mem_cgroup` for the lifetime `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::mem_cgroup) -> &'a Self {
        // SAFETY: `MemCgroup` is `repr(transparent)` over `mem_cgroup`; liveness is the
        // caller's contract.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// The memcg a `memory` page counter is embedded in.
    ///
    /// # Safety
    ///
    /// `counter` must be the `memory` counter of a live memcg, live for `'a`.
    pub(crate) unsafe fn from_memory_counter<'a>(counter: &PageCounter) -> &'a Self {
        let offset = core::mem::offset_of!(bindings::mem_cgroup, memory);
        // SAFETY: by the contract, `counter` lies `offset` bytes into a live `mem_cgroup`.
        unsafe { Self::from_raw(counter.as_ptr().cast::<u8>().sub(offset).cast()) }
    }

    pub(crate) fn as_ptr(&self) -> *mut bindings::mem_cgroup {
        core::ptr::from_ref(self).cast_mut().cast()
    }

    /// The counter behind memory.current and memory.max.
    pub(crate) fn memory(&self) -> &PageCounter {
        // SAFETY: `memory` is a field of this live memcg (type invariant); C updates it
        // only atomically, which is all `PageCounter` does too.
        unsafe { PageCounter::from_raw(core::ptr::addr_of_mut!((*self.as_ptr()).memory)) }
    }

    /// Whether this memcg is `root` or below it.
    pub(crate) fn is_descendant(&self, root: &MemCgroup) -> bool {
        // SAFETY: both memcgs are live (type invariant).
        unsafe { crate::shim::memcg_rs_memcg_is_descendant(self.as_ptr(), root.as_ptr()) }
    }

    /// Takes a css reference, owned by the returned [`MemcgRef`].
    pub(crate) fn get(&self) -> MemcgRef {
        // SAFETY: the memcg is live, so its css may gain a reference.
        unsafe { bindings::css_get(core::ptr::addr_of_mut!((*self.as_ptr()).css)) };
        // INVARIANT: the reference just taken is owned by the new `MemcgRef`.
        MemcgRef(NonNull::from(self))
    }
}

/// A memcg with a css reference held, dropped with the value.
///
/// # Invariants
///
/// Owns one css reference on the memcg it points to, which therefore stays live.
pub(crate) struct MemcgRef(NonNull<MemCgroup>);

// SAFETY: a css reference may be taken and dropped on any CPU and in any context.
unsafe impl Send for MemcgRef {}

impl MemcgRef {
    pub(crate) fn memcg(&self) -> &MemCgroup {
        // SAFETY: the reference keeps the memcg live (type invariant).
        unsafe { self.0.as_ref() }
    }
}

impl Drop for MemcgRef {
    fn drop(&mut self) {
        // SAFETY: we own one reference (type invariant); css_put may run in any context.
        unsafe { bindings::css_put(core::ptr::addr_of_mut!((*self.memcg().as_ptr()).css)) };
    }
}
