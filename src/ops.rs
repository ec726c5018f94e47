// SPDX-License-Identifier: GPL-2.0

//! The `struct memcg_charge_ops` memcg-rs registers, and its C entry points.

use crate::memcg::MemCgroup;
use crate::stats::Stat;
use crate::{charge, oom, state};
use kernel::bindings;

/// The `struct memcg_charge_ops` the module registers.
///
/// # Invariants
///
/// Never changed after construction; its pointers are a module, a static string and
/// functions, all of which outlive the registration.
pub(crate) struct ChargeOps(bindings::memcg_charge_ops);

// SAFETY: the kernel only reads the struct, from any CPU (type invariant).
unsafe impl Send for ChargeOps {}
// SAFETY: as above.
unsafe impl Sync for ChargeOps {}

impl ChargeOps {
    pub(crate) fn as_ptr(&self) -> *const bindings::memcg_charge_ops {
        &self.0
    }
}

/// Builds the charge ops of the module `owner`.
pub(crate) fn charge_ops(owner: *mut bindings::module) -> ChargeOps {
    ChargeOps(bindings::memcg_charge_ops {
        owner,
        name: kernel::c_str!("memcg_rs").as_char_ptr(),
        try_charge: Some(try_charge),
        refill_stock: Some(refill_stock),
        drain_all_stock: Some(drain_all_stock),
        oom_synchronize: Some(oom_synchronize),
        release_stocks: Some(release_stocks),
    })
}

/// # Safety
///
/// Called by the kernel with a live memcg, while the ops are registered.
unsafe extern "C" fn try_charge(
    memcg: *mut bindings::mem_cgroup,
    gfp: bindings::gfp_t,
    nr_pages: core::ffi::c_uint,
) -> core::ffi::c_int {
    // SAFETY: the caller keeps `memcg` live for the call.
    let memcg = unsafe { MemCgroup::from_raw(memcg) };
    match charge::try_charge(state(), memcg, gfp, nr_pages as usize) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called by the kernel with a live memcg, while the ops are registered.
unsafe extern "C" fn refill_stock(memcg: *mut bindings::mem_cgroup, nr_pages: core::ffi::c_uint) {
    // SAFETY: the caller keeps `memcg` live for the call.
    let memcg = unsafe { MemCgroup::from_raw(memcg) };
    let state = state();
    state.stock.refill(memcg, nr_pages as usize, &state.stats);
}

/// # Safety
///
/// Called by the kernel with a live memcg, while the ops are registered.
unsafe extern "C" fn drain_all_stock(root: *mut bindings::mem_cgroup) {
    // SAFETY: the caller keeps `root` live for the call.
    let root = unsafe { MemCgroup::from_raw(root) };
    let state = state();
    state.stats.inc(Stat::DrainAllCalls);
    state.stock.drain_subtree(root, &state.stats);
}

/// # Safety
///
/// Called by the kernel at the end of a user page fault with the recorded memcg, on which
/// it holds a css reference, while the ops are registered.
unsafe extern "C" fn oom_synchronize(
    memcg: *mut bindings::mem_cgroup,
    gfp: bindings::gfp_t,
    order: core::ffi::c_int,
    handle: bool,
) {
    // SAFETY: the caller's reference keeps `memcg` live for the call.
    let memcg = unsafe { MemCgroup::from_raw(memcg) };
    oom::synchronize(state(), memcg, gfp, order, handle);
}

/// # Safety
///
/// Called by the kernel once, at unregistration, after the last call into the ops.
unsafe extern "C" fn release_stocks() {
    let state = state();
    state.stock.drain_all(&state.stats);
}

/// CPU-hotplug teardown of a dead CPU (from `src/shim.c`): its stock goes back.
#[no_mangle]
extern "C" fn memcg_rs_cpu_dead(cpu: core::ffi::c_uint) {
    state().stock.drain_cpu(cpu as usize);
}
