// SPDX-License-Identifier: GPL-2.0

//! KUnit cases of try_charge's ladder, one per gfp behaviour, on the real memcg
//! `/memcg_rs_kunit/tiny` (memory.max = 2 pages, no tasks, nothing to reclaim).

use super::{in_user_fault, try_charge, MAX_RECLAIM_RETRIES};
use crate::kunit::TestResult;
use crate::kunit_fixture::TestMemcg;
use crate::stats::Stat;
use kernel::bindings;
use kernel::error::code::ENOMEM;

const MAX: bindings::memcg_memory_event = bindings::memcg_memory_event_MEMCG_MAX;
const OOM: bindings::memcg_memory_event = bindings::memcg_memory_event_MEMCG_OOM;
const OOM_KILL: bindings::memcg_memory_event = bindings::memcg_memory_event_MEMCG_OOM_KILL;

/// Pages over the 2-page limit of the fixture.
const OVER: usize = 4;

fn reclaim_calls() -> u64 {
    crate::state().stats.get(Stat::ReclaimCalls)
}

/// Gives back `nr` charged pages and whatever the charge left in the stocks.
fn release(m: &TestMemcg, nr: usize) {
    m.memcg().memory().uncharge(nr);
    let state = crate::state();
    state.stock.drain_subtree(m.memcg(), &state.stats);
}

fn charge_under_max_charges_exactly_when_a_batch_does_not_fit() -> TestResult {
    let m = fixture!("/memcg_rs_kunit/tiny");
    let base = m.usage();
    kunit_assert_eq!(base, 0);
    kunit_assert!(try_charge(crate::state(), m.memcg(), bindings::GFP_KERNEL, 1).is_ok());
    // The batch of 64 went over max, so exactly one page was charged and none stocked.
    kunit_assert_eq!(m.usage(), 1);
    release(&m, 1);
    kunit_assert_eq!(m.usage(), 0);
    Ok(())
}

fn nowait_charge_over_max_fails_without_reclaim() -> TestResult {
    let m = fixture!("/memcg_rs_kunit/tiny");
    let (reclaims, max) = (reclaim_calls(), m.event(MAX));
    let r = try_charge(crate::state(), m.memcg(), bindings::GFP_NOWAIT, OVER);
    kunit_assert!(r == Err(ENOMEM));
    kunit_assert_eq!(m.usage(), 0);
    kunit_assert_eq!(reclaim_calls(), reclaims);
    kunit_assert_eq!(m.event(MAX), max);
    Ok(())
}

fn nofail_charge_over_max_is_forced_and_raises_max() -> TestResult {
    let m = fixture!("/memcg_rs_kunit/tiny");
    let (forced, max) = (crate::state().stats.get(Stat::ForcedCharges), m.event(MAX));
    let gfp = bindings::GFP_NOWAIT | bindings::__GFP_NOFAIL;
    kunit_assert!(try_charge(crate::state(), m.memcg(), gfp, OVER).is_ok());
    kunit_assert_eq!(m.usage(), OVER);
    kunit_assert_eq!(m.event(MAX), max + 1);
    kunit_assert_eq!(crate::state().stats.get(Stat::ForcedCharges), forced + 1);
    release(&m, OVER);
    Ok(())
}

fn atomic_charge_over_max_is_forced_by_gfp_high() -> TestResult {
    let m = fixture!("/memcg_rs_kunit/tiny");
    let reclaims = reclaim_calls();
    kunit_assert!(try_charge(crate::state(), m.memcg(), bindings::GFP_ATOMIC, OVER).is_ok());
    kunit_assert_eq!(m.usage(), OVER);
    kunit_assert_eq!(reclaim_calls(), reclaims);
    release(&m, OVER);
    Ok(())
}

fn noretry_charge_fails_after_one_reclaim_and_one_drain() -> TestResult {
    let m = fixture!("/memcg_rs_kunit/tiny");
    let (reclaims, max, oom) = (reclaim_calls(), m.event(MAX), m.event(OOM));
    let gfp = bindings::GFP_KERNEL | bindings::__GFP_NORETRY;
    kunit_assert!(try_charge(crate::state(), m.memcg(), gfp, OVER) == Err(ENOMEM));
    // Reclaim, drain all stocks, reclaim again, then give up.
    kunit_assert_eq!(reclaim_calls(), reclaims + 2);
    kunit_assert_eq!(m.event(MAX), max + 2);
    kunit_assert_eq!(m.event(OOM), oom);
    kunit_assert_eq!(m.usage(), 0);
    Ok(())
}

fn retry_mayfail_charge_fails_after_the_retry_budget_without_oom() -> TestResult {
    let m = fixture!("/memcg_rs_kunit/tiny");
    let (reclaims, oom) = (reclaim_calls(), m.event(OOM));
    let gfp = bindings::GFP_KERNEL | bindings::__GFP_RETRY_MAYFAIL;
    kunit_assert!(try_charge(crate::state(), m.memcg(), gfp, OVER) == Err(ENOMEM));
    // The first reclaim, the one after the drain, then the whole retry budget.
    kunit_assert_eq!(
        reclaim_calls(),
        reclaims + 2 + u64::from(MAX_RECLAIM_RETRIES)
    );
    kunit_assert_eq!(m.event(OOM), oom);
    Ok(())
}

fn memalloc_task_charge_is_forced_without_reclaim() -> TestResult {
    let m = fixture!("/memcg_rs_kunit/tiny");
    let reclaims = reclaim_calls();
    // SAFETY: current is this test's own thread; the flag is restored below.
    let task = unsafe { bindings::get_current() };
    // SAFETY: as above, only current writes its own flags.
    let saved = unsafe { (*task).flags };
    // SAFETY: as above.
    unsafe { (*task).flags |= bindings::PF_MEMALLOC };
    let r = try_charge(crate::state(), m.memcg(), bindings::GFP_KERNEL, OVER);
    // SAFETY: as above.
    unsafe { (*task).flags = saved };
    kunit_assert!(r.is_ok());
    kunit_assert_eq!(m.usage(), OVER);
    kunit_assert_eq!(reclaim_calls(), reclaims);
    release(&m, OVER);
    Ok(())
}

fn charge_outside_a_fault_runs_the_oom_killer_synchronously() -> TestResult {
    let m = fixture!("/memcg_rs_kunit/tiny");
    let stats = &crate::state().stats;
    let (sync, oom, kills) = (stats.get(Stat::OomSync), m.event(OOM), m.event(OOM_KILL));
    let r = try_charge(crate::state(), m.memcg(), bindings::GFP_KERNEL, OVER);
    // Nothing in the memcg can be killed, so the OOM killer makes no progress and the
    // charge fails.
    kunit_assert!(r == Err(ENOMEM));
    kunit_assert_eq!(stats.get(Stat::OomSync), sync + 1);
    kunit_assert_eq!(m.event(OOM), oom + 1);
    kunit_assert_eq!(m.event(OOM_KILL), kills);
    Ok(())
}

fn charge_in_a_user_fault_records_the_oom_context_and_fails_fast_after() -> TestResult {
    let m = fixture!("/memcg_rs_kunit/tiny");
    let stats = &crate::state().stats;
    let (recorded, oom, sync) = (
        stats.get(Stat::OomContextsRecorded),
        m.event(OOM),
        stats.get(Stat::OomSync),
    );
    // SAFETY: current is this test's own thread, which alone writes its fault state.
    let task = unsafe { bindings::get_current() };
    // SAFETY: as above; cleared again below.
    unsafe { crate::shim::memcg_rs_set_in_user_fault(true) };
    let first = try_charge(crate::state(), m.memcg(), bindings::GFP_KERNEL, OVER);
    let reclaims = reclaim_calls();
    let second = try_charge(crate::state(), m.memcg(), bindings::GFP_KERNEL, OVER);
    // SAFETY: as above.
    unsafe { crate::shim::memcg_rs_set_in_user_fault(false) };
    // SAFETY: reads current's own slot.
    let pending = unsafe { bindings::task_in_memcg_deferred_oom(task) };

    kunit_assert!(first == Err(ENOMEM));
    kunit_assert!(pending);
    kunit_assert_eq!(stats.get(Stat::OomContextsRecorded), recorded + 1);
    kunit_assert_eq!(stats.get(Stat::OomSync), sync);
    kunit_assert_eq!(m.event(OOM), oom + 1);
    // With a context pending, the next charge over the limit fails without reclaim.
    kunit_assert!(second == Err(ENOMEM));
    kunit_assert_eq!(reclaim_calls(), reclaims);
    // The context (and its css reference) is dropped when this test thread exits, as for
    // any task that exits with one; tests/kunit/kunit.sh then checks the cgroup can go.
    Ok(())
}

fn oom_context_that_finds_room_makes_the_next_oom_run_in_the_charge() -> TestResult {
    let m = fixture!("/memcg_rs_kunit/tiny");
    let state = crate::state();
    let stats = &state.stats;
    // The end of a fault whose OOM context finds room (nothing is charged): as after a THP
    // fault that freed its huge page. The OOM killer kills nothing.
    let (found, kills) = (stats.get(Stat::OomContextsFoundRoom), m.event(OOM_KILL));
    crate::oom::synchronize(state, m.memcg(), bindings::GFP_KERNEL, 0, true);
    kunit_assert_eq!(stats.get(Stat::OomContextsFoundRoom), found + 1);
    kunit_assert_eq!(m.event(OOM_KILL), kills);

    let (recorded, sync) = (
        stats.get(Stat::OomContextsRecorded),
        stats.get(Stat::OomSync),
    );
    // SAFETY: current is this test's own thread, which alone writes its fault state.
    let task = unsafe { bindings::get_current() };
    // SAFETY: as above; cleared again below.
    unsafe { crate::shim::memcg_rs_set_in_user_fault(true) };
    let first = try_charge(state, m.memcg(), bindings::GFP_KERNEL, OVER);
    let (recorded_first, sync_first) = (
        stats.get(Stat::OomContextsRecorded),
        stats.get(Stat::OomSync),
    );
    let second = try_charge(state, m.memcg(), bindings::GFP_KERNEL, OVER);
    // SAFETY: as above.
    unsafe { crate::shim::memcg_rs_set_in_user_fault(false) };
    // SAFETY: reads current's own slot.
    let pending = unsafe { bindings::task_in_memcg_deferred_oom(task) };

    // The next OOM in a fault ran inside the charge, as in 6.12, and recorded nothing.
    kunit_assert!(first == Err(ENOMEM));
    kunit_assert_eq!(sync_first, sync + 1);
    kunit_assert_eq!(recorded_first, recorded);
    // Only that one: the OOM after it is deferred again.
    kunit_assert!(second == Err(ENOMEM));
    kunit_assert_eq!(stats.get(Stat::OomContextsRecorded), recorded + 1);
    kunit_assert_eq!(stats.get(Stat::OomSync), sync + 1);
    kunit_assert!(pending);
    // The pending context goes when this test thread exits, as in the test above.
    Ok(())
}

fn fault_state_read_inline_agrees_with_the_kernel() -> TestResult {
    let mut seen = [(false, false); 2];
    for (in_fault, seen) in [true, false].into_iter().zip(&mut seen) {
        // SAFETY: current is this test's own thread, which alone writes its fault state;
        // the last pass clears it again.
        unsafe { crate::shim::memcg_rs_set_in_user_fault(in_fault) };
        // SAFETY: reads current's own fault state.
        *seen = (in_user_fault(), unsafe {
            crate::shim::memcg_rs_in_user_fault()
        });
    }
    kunit_assert_eq!(seen, [(true, true), (false, false)]);
    Ok(())
}

kunit_suite!(
    CHARGE_SUITE,
    "memcg_rs_try_charge",
    [
        charge_under_max_charges_exactly_when_a_batch_does_not_fit,
        nowait_charge_over_max_fails_without_reclaim,
        nofail_charge_over_max_is_forced_and_raises_max,
        atomic_charge_over_max_is_forced_by_gfp_high,
        noretry_charge_fails_after_one_reclaim_and_one_drain,
        retry_mayfail_charge_fails_after_the_retry_budget_without_oom,
        memalloc_task_charge_is_forced_without_reclaim,
        charge_outside_a_fault_runs_the_oom_killer_synchronously,
        charge_in_a_user_fault_records_the_oom_context_and_fails_fast_after,
        oom_context_that_finds_room_makes_the_next_oom_run_in_the_charge,
        fault_state_read_inline_agrees_with_the_kernel,
    ]
);
