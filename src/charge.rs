// SPDX-License-Identifier: GPL-2.0

//! try_charge: charge pages to a memcg, reclaiming, draining and invoking the OOM killer
//! as 6.12's `try_charge_memcg()` does, step for step (mm/memcontrol.c).

use crate::memcg::MemCgroup;
use crate::oom;
use crate::percpu::{self, CpuGuard};
use crate::stats::{ChargeKind, Stat};
use crate::stock::BATCH;
use crate::State;
use kernel::bindings;
use kernel::error::code::ENOMEM;
use kernel::prelude::*;

/// Reclaim passes without progress before the OOM killer (mm/internal.h).
const MAX_RECLAIM_RETRIES: u32 = 16;

/// Pages at or below which a charge retries after any reclaim progress.
const COSTLY_PAGES: usize = 1 << bindings::PAGE_ALLOC_COSTLY_ORDER;

fn gfp_has(gfp: bindings::gfp_t, flags: bindings::gfp_t) -> bool {
    gfp & flags != 0
}

/// The page allocator order of `nr_pages` pages (`get_order`).
fn order_of(nr_pages: usize) -> i32 {
    nr_pages.next_power_of_two().trailing_zeros() as i32
}

/// `current`.
pub(crate) fn current() -> *mut bindings::task_struct {
    // SAFETY: there is always a current task.
    unsafe { bindings::get_current() }
}

/// Whether the charge comes from a user page fault: `in_task() && current->in_user_fault`.
#[inline]
fn in_user_fault() -> bool {
    #[cfg(all(target_arch = "x86_64", not(CONFIG_PREEMPT_RT)))]
    {
        // SAFETY: the shim sets both before the charge ops are registered, and they do not
        // change after.
        let (offset, mask) = unsafe {
            (
                crate::shim::memcg_rs_in_user_fault_offset,
                crate::shim::memcg_rs_in_user_fault_mask,
            )
        };
        percpu::in_task()
            // SAFETY: `offset` is a byte of current's task_struct, which is live while it
            // runs. Only current writes `in_user_fault`, which sched.h keeps in a word
            // written by current alone, so this plain read races with no write.
            && unsafe { percpu::current().cast::<u8>().add(offset as usize).read() } & mask != 0
    }
    #[cfg(not(all(target_arch = "x86_64", not(CONFIG_PREEMPT_RT))))]
    // SAFETY: reads current's own fault state.
    unsafe {
        crate::shim::memcg_rs_in_user_fault()
    }
}

/// Where the charge came from, as far as the kernel tells.
#[inline]
fn charge_kind(gfp: bindings::gfp_t) -> ChargeKind {
    if in_user_fault() {
        ChargeKind::UserFault
    } else if gfp_has(gfp, 1 << bindings::___GFP_ACCOUNT_BIT) {
        ChargeKind::Kmem
    } else {
        ChargeKind::Other
    }
}

/// Charges `nr_pages` to `memcg` and its ancestors.
///
/// Inlined into the charge operation, so that a stock hit makes no call at all.
#[inline(always)]
pub(crate) fn try_charge(
    state: &State,
    memcg: &MemCgroup,
    gfp: bindings::gfp_t,
    nr_pages: usize,
) -> Result {
    // The common case, a stock hit, in one pinned section.
    {
        let cpu = CpuGuard::new();
        let stats = state.stats.on(&cpu);
        stats.count_charge(charge_kind(gfp), nr_pages);
        if state.stock.consume_on(&cpu, memcg, nr_pages, stats) {
            return Ok(());
        }
    }
    charge_counters(state, memcg, gfp, nr_pages)
}

/// [`try_charge`] after a stock miss: charges the page counters, reclaiming, draining and
/// invoking the OOM killer as needed. Out of line, so that the stock hit path saves and
/// restores only the few registers it needs.
#[inline(never)]
fn charge_counters(
    state: &State,
    memcg: &MemCgroup,
    gfp: bindings::gfp_t,
    nr_pages: usize,
) -> Result {
    let stats = &state.stats;
    let mut batch = BATCH.max(nr_pages);
    let mut nr_retries = MAX_RECLAIM_RETRIES;
    let mut passed_oom = false;
    let mut drained = false;
    let mut raised_max_event = false;

    // Ends with the memcg over its limit, and whether the charge must be forced anyway.
    let mut retry = false;
    let (mem_over_limit, force) = loop {
        if retry && state.stock.consume(memcg, nr_pages, stats) {
            return Ok(());
        }
        retry = true;

        let mem_over_limit = match memcg.memory().try_charge(batch) {
            Ok(()) => {
                if batch > nr_pages {
                    stats.inc(Stat::BatchRefills);
                    state.stock.refill(memcg, batch - nr_pages, stats);
                }
                // SAFETY: `memcg` is live; this is the memory.high check and punt that
                // 6.12 does after a successful charge, which counts the whole batch.
                unsafe {
                    bindings::mem_cgroup_handle_high_charge(memcg.as_ptr(), gfp, batch as u32)
                };
                return Ok(());
            }
            // SAFETY: the counter that refused is the `memory` counter of `memcg` or of one
            // of its ancestors, all live while `memcg` is.
            Err(counter) => unsafe { MemCgroup::from_memory_counter(counter) },
        };

        if batch > nr_pages {
            batch = nr_pages;
            continue;
        }

        // Reclaim must not recurse into reclaim: let it overshoot instead.
        // SAFETY: current is live.
        if unsafe { (*current()).flags } & bindings::PF_MEMALLOC != 0 {
            break (mem_over_limit, true);
        }
        // SAFETY: the helpers only read current.
        let fail_fast = unsafe {
            bindings::task_in_memcg_deferred_oom(current())
                || !bindings::gfpflags_allow_blocking(gfp)
                || bindings::memcg_task_oom_skip()
        };
        if fail_fast {
            break (mem_over_limit, false);
        }

        // SAFETY: `mem_over_limit` is live (above); these calls may sleep, which a
        // blocking gfp mask allows.
        let nr_reclaimed = unsafe {
            bindings::mem_cgroup_memory_event(
                mem_over_limit.as_ptr(),
                bindings::memcg_memory_event_MEMCG_MAX,
            );
            raised_max_event = true;
            stats.inc(Stat::ReclaimCalls);
            let mut pflags = 0;
            crate::shim::memcg_rs_memstall_enter(&mut pflags);
            let n = bindings::try_to_free_mem_cgroup_pages(
                mem_over_limit.as_ptr(),
                nr_pages as _,
                gfp,
                bindings::MEMCG_RECLAIM_MAY_SWAP,
                core::ptr::null_mut(),
            );
            crate::shim::memcg_rs_memstall_leave(&mut pflags);
            n
        };

        // SAFETY: `mem_over_limit` is live.
        if unsafe { bindings::mem_cgroup_margin(mem_over_limit.as_ptr()) } as usize >= nr_pages {
            continue;
        }
        if !drained {
            // SAFETY: `mem_over_limit` is live; the C drain empties the object stocks and
            // then calls our drain for the page stocks.
            unsafe { bindings::drain_all_stock(mem_over_limit.as_ptr()) };
            drained = true;
            continue;
        }
        if gfp_has(gfp, bindings::__GFP_NORETRY) {
            break (mem_over_limit, false);
        }
        if nr_reclaimed != 0 && nr_pages <= COSTLY_PAGES {
            continue;
        }
        if nr_retries > 0 {
            nr_retries -= 1;
            continue;
        }
        if gfp_has(gfp, bindings::__GFP_RETRY_MAYFAIL) {
            break (mem_over_limit, false);
        }
        // SAFETY: reads current only.
        if passed_oom && unsafe { bindings::memcg_task_is_dying() } {
            break (mem_over_limit, false);
        }
        if oom::invoke(state, mem_over_limit, gfp, order_of(nr_pages)) {
            passed_oom = true;
            nr_retries = MAX_RECLAIM_RETRIES;
            continue;
        }
        break (mem_over_limit, false);
    };

    // nomem: only allocations that must not fail, or that free memory soon, go over.
    let force = force || gfp_has(gfp, bindings::__GFP_NOFAIL | bindings::__GFP_HIGH);
    if !force {
        stats.inc(Stat::FailedCharges);
        return Err(ENOMEM);
    }
    stats.inc(Stat::ForcedCharges);
    if !raised_max_event {
        // SAFETY: `mem_over_limit` is live.
        unsafe {
            bindings::mem_cgroup_memory_event(
                mem_over_limit.as_ptr(),
                bindings::memcg_memory_event_MEMCG_MAX,
            )
        };
    }
    memcg.memory().charge(nr_pages);
    Ok(())
}

#[cfg(CONFIG_KUNIT)]
#[path = "charge_kunit.rs"]
mod kunit_tests;
