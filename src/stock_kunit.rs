// SPDX-License-Identifier: GPL-2.0

//! KUnit cases of the per-CPU stock, on a private [`Stock`] and real memcgs.
//!
//! Each case pins itself to one CPU so that every refill and consume meets the same CPU's
//! slots, and gives back every page it charges.

use super::{Stock, BATCH, NR_SLOTS};
use crate::kunit::TestResult;
use crate::kunit_fixture::TestMemcg;
use crate::percpu::CpuGuard;
use crate::stats::{Stat, Stats};
use kernel::prelude::*;

struct Fixture {
    stock: Stock,
    stats: Stats,
}

fn setup() -> Result<Fixture> {
    Ok(Fixture {
        stock: Stock::new()?,
        stats: Stats::new()?,
    })
}

/// Charges `nr` pages to `m`'s counters and puts them in the stock.
fn stock_pages(f: &Fixture, m: &TestMemcg, nr: usize) {
    m.memcg().memory().charge(nr);
    f.stock.refill(m.memcg(), nr, &f.stats);
}

fn refill_then_consume_hits_without_touching_the_counter() -> TestResult {
    let a = fixture!("/memcg_rs_kunit/s0");
    let Ok(f) = setup() else {
        kunit_skip!("no memory")
    };
    let _cpu = CpuGuard::new();
    let base = a.usage();

    stock_pages(&f, &a, 10);
    kunit_assert_eq!(a.usage(), base + 10);
    kunit_assert!(f.stock.consume(a.memcg(), 4, &f.stats));
    kunit_assert_eq!(a.usage(), base + 10);
    kunit_assert_eq!(f.stats.get(Stat::StockHits), 1);

    // Six pages left: seven is a miss, and the stock keeps its six.
    kunit_assert!(!f.stock.consume(a.memcg(), 7, &f.stats));
    kunit_assert_eq!(f.stats.get(Stat::StockMisses), 1);
    kunit_assert!(f.stock.consume(a.memcg(), 6, &f.stats));

    // The ten pages are all in use now: give them back as an uncharge would.
    a.memcg().memory().uncharge(10);
    f.stock.drain_all(&f.stats);
    kunit_assert_eq!(a.usage(), base);
    Ok(())
}

fn consume_misses_for_a_memcg_with_no_slot() -> TestResult {
    let a = fixture!("/memcg_rs_kunit/s0");
    let b = fixture!("/memcg_rs_kunit/s1");
    let Ok(f) = setup() else {
        kunit_skip!("no memory")
    };
    let _cpu = CpuGuard::new();
    let base_a = a.usage();

    stock_pages(&f, &a, 8);
    kunit_assert!(!f.stock.consume(b.memcg(), 1, &f.stats));
    kunit_assert!(!f.stock.consume(a.memcg(), BATCH + 1, &f.stats));
    kunit_assert_eq!(f.stats.get(Stat::StockMisses), 2);
    f.stock.drain_all(&f.stats);
    kunit_assert_eq!(a.usage(), base_a);
    Ok(())
}

fn memcg_beyond_the_slots_evicts_one_and_its_pages_return() -> TestResult {
    let memcgs = siblings![0, 1, 2, 3, 4, 5, 6, 7, 8];
    let Ok(f) = setup() else {
        kunit_skip!("no memory")
    };
    let base = memcgs.each_ref().map(|m| m.usage());
    let _cpu = CpuGuard::new();

    for m in &memcgs[..NR_SLOTS] {
        stock_pages(&f, m, 3);
    }
    kunit_assert_eq!(f.stats.get(Stat::StockEvictions), 0);
    stock_pages(&f, &memcgs[NR_SLOTS], 3);
    kunit_assert_eq!(f.stats.get(Stat::StockEvictions), 1);

    // Round robin evicts the first slot: s0's pages went back to its counter.
    kunit_assert_eq!(memcgs[0].usage(), base[0]);
    kunit_assert!(!f.stock.consume(memcgs[0].memcg(), 1, &f.stats));
    for (m, b) in memcgs.iter().zip(base.iter()).skip(1) {
        kunit_assert_eq!(m.usage(), b + 3);
        kunit_assert!(f.stock.consume(m.memcg(), 3, &f.stats));
        m.memcg().memory().uncharge(3);
    }
    f.stock.drain_all(&f.stats);
    Ok(())
}

fn refill_beyond_a_batch_returns_the_surplus_to_the_counter() -> TestResult {
    let a = fixture!("/memcg_rs_kunit/s0");
    let Ok(f) = setup() else {
        kunit_skip!("no memory")
    };
    let _cpu = CpuGuard::new();
    let base = a.usage();

    stock_pages(&f, &a, BATCH + 36);
    kunit_assert_eq!(a.usage(), base + BATCH);
    kunit_assert!(f.stock.consume(a.memcg(), BATCH, &f.stats));
    kunit_assert!(!f.stock.consume(a.memcg(), 1, &f.stats));
    a.memcg().memory().uncharge(BATCH);
    kunit_assert_eq!(a.usage(), base);
    Ok(())
}

fn drain_subtree_returns_the_subtree_and_keeps_the_rest() -> TestResult {
    let root = fixture!("/memcg_rs_kunit");
    let inside = fixture!("/memcg_rs_kunit/s2");
    let outside = fixture!("/memcg_rs_kunit_other");
    let Ok(f) = setup() else {
        kunit_skip!("no memory")
    };
    let _cpu = CpuGuard::new();
    let (base_in, base_out) = (inside.usage(), outside.usage());

    stock_pages(&f, &inside, 5);
    stock_pages(&f, &outside, 5);
    f.stock.drain_subtree(root.memcg(), &f.stats);
    kunit_assert_eq!(inside.usage(), base_in);
    kunit_assert_eq!(outside.usage(), base_out + 5);
    kunit_assert_eq!(f.stats.get(Stat::DrainsLocal), 1);
    kunit_assert!(f.stock.consume(outside.memcg(), 5, &f.stats));
    outside.memcg().memory().uncharge(5);
    Ok(())
}

fn busy_stock_sends_a_refill_to_the_counter() -> TestResult {
    let a = fixture!("/memcg_rs_kunit/s0");
    let Ok(f) = setup() else {
        kunit_skip!("no memory")
    };
    let cpu = CpuGuard::new();
    let base = a.usage();

    a.memcg().memory().charge(4);
    {
        // An interrupted owner holds the slots: the refill must not wait for it.
        let held = f.stock.cpus.get(cpu.cpu()).try_lock();
        kunit_assert!(held.is_some());
        f.stock.refill(a.memcg(), 4, &f.stats);
        kunit_assert_eq!(a.usage(), base);
        // The refill's failed try_lock left the owner's lock held.
        kunit_assert!(f.stock.cpus.get(cpu.cpu()).try_lock().is_none());
        kunit_assert!(!f.stock.consume(a.memcg(), 1, &f.stats));
    }
    kunit_assert!(!f.stock.consume(a.memcg(), 1, &f.stats));
    Ok(())
}

kunit_suite!(
    STOCK_SUITE,
    "memcg_rs_stock",
    [
        refill_then_consume_hits_without_touching_the_counter,
        consume_misses_for_a_memcg_with_no_slot,
        memcg_beyond_the_slots_evicts_one_and_its_pages_return,
        refill_beyond_a_batch_returns_the_surplus_to_the_counter,
        drain_subtree_returns_the_subtree_and_keeps_the_rest,
        busy_stock_sends_a_refill_to_the_counter,
    ]
);
