// SPDX-License-Identifier: GPL-2.0

//! The memcg OOM step of try_charge, and the deferred OOM context.
//!
//! In `deferred` mode (the default) a charge that fails inside a user page fault does not
//! kill from inside the fault, where mm and filesystem locks may be held: it records the OOM
//! context (memcg with a css reference, gfp mask, order) in the task with
//! `memcg_deferred_oom_set()` and fails. The fault returns `VM_FAULT_OOM`, and at its end the
//! kernel calls [`synchronize`], which invokes the memcg OOM killer for the recorded memcg (or
//! waits for the OOM already in progress there, under `oom_lock`) with no locks held; the
//! fault is then retried. Outside a user fault, and in `sync` mode, the OOM killer runs
//! synchronously inside the charge, as 6.12 does. So does the next OOM of a task whose
//! deferred OOM found room in its memcg by the end of the fault (see [`synchronize`]).

use crate::charge::current;
use crate::memcg::MemCgroup;
use crate::stats::Stat;
use crate::State;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::bindings;

/// The last task whose deferred OOM found room in its memcg when the fault ended (see
/// [`synchronize`]); its next OOM runs inside the charge. Only compared with `current`,
/// never dereferenced: a task that exits meanwhile leaves a stale value, and a new task at
/// the same address has its first OOM run inside the charge, which is 6.12's own way.
static OOM_IN_CHARGE_NEXT: AtomicPtr<bindings::task_struct> = AtomicPtr::new(null_mut());

/// Whether current's deferred OOM last found room; clears the mark if so.
fn take_oom_in_charge_mark() -> bool {
    // Relaxed: a hint for current's own next OOM; a lost race costs one more deferral.
    OOM_IN_CHARGE_NEXT
        .compare_exchange(current(), null_mut(), Ordering::Relaxed, Ordering::Relaxed)
        .is_ok()
}

/// Whether the `oom_mode` module parameter says `sync`.
fn sync_mode() -> bool {
    // SAFETY: an `int` written with WRITE_ONCE by the parameter's setter; a volatile read is
    // the matching READ_ONCE.
    unsafe { core::ptr::read_volatile(core::ptr::addr_of!(crate::shim::memcg_rs_oom_mode)) != 0 }
}

/// The OOM step of try_charge for `memcg` over its limit. Returns true when the charge
/// should be retried (the OOM killer made progress), false when it fails.
pub(crate) fn invoke(state: &State, memcg: &MemCgroup, gfp: bindings::gfp_t, order: i32) -> bool {
    // Like 6.12, no OOM kill for costly orders: the caller falls back to smaller pages.
    if order > bindings::PAGE_ALLOC_COSTLY_ORDER as i32 {
        return false;
    }
    if !sync_mode() && !take_oom_in_charge_mark() {
        // SAFETY: `memcg` is live; the call takes its own css reference for the context.
        if unsafe { bindings::memcg_deferred_oom_set(memcg.as_ptr(), gfp, order) } {
            // SAFETY: `memcg` is live.
            unsafe {
                bindings::mem_cgroup_memory_event(
                    memcg.as_ptr(),
                    bindings::memcg_memory_event_MEMCG_OOM,
                )
            };
            state.stats.inc(Stat::OomContextsRecorded);
            return false;
        }
    }
    state.stats.inc(Stat::OomSync);
    state.stats.inc(Stat::OomKillsInvoked);
    // SAFETY: `memcg` is live; we may sleep (the charge's gfp mask allows blocking).
    unsafe { bindings::mem_cgroup_oom(memcg.as_ptr(), gfp, order) }
}

/// Resolves the OOM context recorded by [`invoke`], at the end of the user page fault.
/// `handle` is false when the fault succeeded after all: the context is just dropped.
pub(crate) fn synchronize(
    state: &State,
    memcg: &MemCgroup,
    gfp: bindings::gfp_t,
    order: i32,
    handle: bool,
) {
    if !handle {
        state.stats.inc(Stat::OomContextsAbandoned);
        return;
    }
    state.stats.inc(Stat::OomContextsResolved);
    // The fault may have given back, on its way out, what it had charged before the charge
    // that failed: a THP fault charges the huge page, then fails to charge the page table it
    // deposits and frees the huge page. The OOM killer then finds room and kills nothing, and
    // the retried fault fails the same way, for ever. 6.12 runs that OOM inside the failing
    // charge, with the huge page still charged, and kills. So does the task's next OOM here.
    // SAFETY: the caller holds a css reference on `memcg`.
    if unsafe { bindings::mem_cgroup_margin(memcg.as_ptr()) } as usize >= 1usize << order {
        state.stats.inc(Stat::OomContextsFoundRoom);
        OOM_IN_CHARGE_NEXT.store(current(), Ordering::Relaxed);
    }
    state.stats.inc(Stat::OomKillsInvoked);
    // SAFETY: the caller holds a css reference on `memcg` and no locks; the OOM killer
    // serialises on `oom_lock` and finds an OOM victim already dying there, if any.
    unsafe { bindings::mem_cgroup_out_of_memory(memcg.as_ptr(), gfp, order) };
}
