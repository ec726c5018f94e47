// SPDX-License-Identifier: GPL-2.0

//! `memcg_rs_bench`: the in-kernel micro-benchmark. Nanoseconds per charge and uncharge of
//! one page, through the kernel's own entry points (`memcg_kunit_try_charge()` and
//! `memcg_kunit_uncharge()`, so the static key and the dispatch are included), on the
//! built-in path and on ours, alternately in the same boot.
//!
//! Three patterns, each on one CPU:
//!
//! * `stock_hit`: one memcg; after the first charge every charge is a stock hit on both.
//! * `rotate8`: eight memcgs in turn. 6.12's single-slot stock misses on every charge and
//!   drains the previous memcg's stock; ours has a slot for each.
//! * `rotate10`: ten memcgs in turn, more than our slots: both paths miss on every charge
//!   and go to the page counters, so this times the miss path.
//!
//! The built-in path is measured by unregistering our charge ops for the time of the
//! measurement (a hot swap, as `rmmod` does) and registering them again. `bench_iters`
//! (module parameter) sets the charges per measurement; each figure is the median of
//! [`REPS`] alternating measurements. The case fails if a charge fails or a page stays
//! charged; the figures themselves never fail it. Under `scripts/vm --icount` the clock
//! counts instructions, so the figures are repeatable.

use crate::kunit::TestResult;
use crate::memcg::MemCgroup;
use kernel::bindings;

/// Alternating measurements per path and pattern.
const REPS: usize = 5;

/// The patterns: name and how many memcgs the charges rotate among.
const PATTERNS: [(&str, usize); 3] = [("stock_hit", 1), ("rotate8", 8), ("rotate10", 10)];

fn now_ns() -> u64 {
    // SAFETY: reads the monotonic clock; callable in any context.
    unsafe { bindings::ktime_get() as u64 }
}

/// Charges and uncharges one page `iters` times, rotating among `memcgs`, through the
/// kernel's entry points. Returns the nanoseconds per charge and uncharge, and how many
/// charges failed.
fn time_charges(memcgs: &[&MemCgroup], iters: usize) -> (u64, usize) {
    let gfp = bindings::GFP_KERNEL;
    let mut failed = 0;
    let mut run = |n: usize| {
        for m in memcgs.iter().cycle().take(n) {
            let m = m.as_ptr();
            // SAFETY: the fixtures keep every memcg live; charging one page may reclaim,
            // which GFP_KERNEL in this kthread allows.
            if unsafe { bindings::memcg_kunit_try_charge(m, gfp, 1) } == 0 {
                // SAFETY: returns the page just charged.
                unsafe { bindings::memcg_kunit_uncharge(m, 1) };
            } else {
                failed += 1;
            }
        }
    };
    // Warm up: fill the stocks the pattern uses.
    run(memcgs.len() * 2);
    let start = now_ns();
    run(iters);
    let ns = now_ns()
        .saturating_sub(start)
        .checked_div(iters as u64)
        .unwrap_or(0);
    (ns, failed)
}

/// The median of the measurements (insertion sort: there are only [`REPS`]).
fn median(mut v: [u64; REPS]) -> u64 {
    for i in 1..REPS {
        let mut j = i;
        while j > 0 && v[j - 1] > v[j] {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
    v[REPS / 2]
}

/// `a / b` with two decimals, as text parts (whole, hundredths); 0 when `b` is 0.
fn ratio(a: u64, b: u64) -> (u64, u64) {
    let r = a.saturating_mul(100).checked_div(b).unwrap_or(0);
    (r / 100, r % 100)
}

fn charge_and_uncharge_builtin_vs_module() -> TestResult {
    let fixtures = siblings![0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    let root = fixture!("/memcg_rs_kunit");
    let memcgs = fixtures.each_ref().map(|f| f.memcg());
    // SAFETY: a plain read of a module parameter.
    let iters = unsafe { core::ptr::read_volatile(&crate::shim::memcg_rs_bench_iters) } as usize;
    let state = crate::state();

    state.stock.drain_subtree(root.memcg(), &state.stats);
    let base = fixtures.each_ref().map(|f| f.usage());

    let mut failed = 0;
    for (name, n) in PATTERNS {
        let mut builtin = [0u64; REPS];
        let mut module = [0u64; REPS];
        for rep in 0..REPS {
            let Ok((ns, f)) = crate::with_builtin_path(|| time_charges(&memcgs[..n], iters)) else {
                kernel::kunit::err(format_args!("    # cannot swap the charge path\n"));
                return Err(crate::kunit::Failed);
            };
            builtin[rep] = ns;
            failed += f;
            let (ns, f) = time_charges(&memcgs[..n], iters);
            module[rep] = ns;
            failed += f;
        }
        let (b, m) = (median(builtin), median(module));
        let (whole, hundredths) = ratio(b, m);
        kernel::kunit::info(format_args!(
            "    # bench_kernel try_charge+uncharge {} builtin={}ns module={}ns builtin/module={}.{:02} (median of {}, {} charges each)\n",
            name, b, m, whole, hundredths, REPS, iters
        ));
    }

    kunit_assert_eq!(failed, 0);
    state.stock.drain_subtree(root.memcg(), &state.stats);
    for (f, b) in fixtures.iter().zip(base) {
        kunit_assert_eq!(f.usage(), b);
    }
    Ok(())
}

kunit_suite!(
    BENCH_SUITE,
    "memcg_rs_bench",
    [charge_and_uncharge_builtin_vs_module]
);
