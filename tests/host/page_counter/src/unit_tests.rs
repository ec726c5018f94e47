// SPDX-License-Identifier: GPL-2.0

//! Sequential semantics of the page counter algorithm, checked against what
//! `mm/page_counter.c` (6.12) does, plus a threaded smoke test on real threads.

use crate::level::{Level, PAGE_COUNTER_MAX};
use crate::page_counter_algo::{cancel, charge, read, try_charge, uncharge};
use std::sync::Arc;

/// root (max `r`) <- mid (max `m`) <- leaf (max `l`), without protection.
fn chain(r: usize, m: usize, l: usize) -> (Arc<Level>, Arc<Level>, Arc<Level>) {
    let root = Level::new(None, r, false);
    let mid = Level::new(Some(&root), m, false);
    let leaf = Level::new(Some(&mid), l, false);
    (root, mid, leaf)
}

fn usages(levels: &[&Arc<Level>]) -> Vec<isize> {
    levels.iter().map(|l| l.usage()).collect()
}

fn failcnts(levels: &[&Arc<Level>]) -> Vec<usize> {
    levels.iter().map(|l| Level::get(&l.failcnt)).collect()
}

#[test]
fn try_charge_within_limits_charges_every_level() {
    let (root, mid, leaf) = chain(100, 50, 20);
    assert!(try_charge(&*leaf, 7).is_ok());
    assert!(try_charge(&*mid, 3).is_ok());
    assert_eq!(usages(&[&leaf, &mid, &root]), [7, 10, 10]);
    assert_eq!(read(&*mid), 10);
}

#[test]
fn try_charge_exactly_to_max_succeeds_and_one_more_page_fails() {
    let (root, mid, leaf) = chain(100, 50, 20);
    assert!(try_charge(&*leaf, 20).is_ok());
    let failed = try_charge(&*leaf, 1).unwrap_err();
    assert!(std::ptr::eq(failed, &*leaf));
    assert_eq!(usages(&[&leaf, &mid, &root]), [20, 20, 20]);
    assert_eq!(failcnts(&[&leaf, &mid, &root]), [1, 0, 0]);
}

#[test]
fn charge_over_max_at_middle_fails_and_unwinds_the_leaf() {
    let (root, mid, leaf) = chain(100, 10, 20);
    assert!(try_charge(&*leaf, 8).is_ok());
    let failed = try_charge(&*leaf, 5).unwrap_err();
    assert!(std::ptr::eq(failed, &*mid));
    assert_eq!(usages(&[&leaf, &mid, &root]), [8, 8, 8]);
    assert_eq!(failcnts(&[&leaf, &mid, &root]), [0, 1, 0]);
    // The refused charge never reached the root. The leaf held it until the unwind, and its
    // peak records that, as page_counter_try_charge() does.
    assert_eq!(Level::get(&root.watermark), 8);
    assert_eq!(Level::get(&mid.watermark), 8);
    assert_eq!(Level::get(&leaf.watermark), 13);
}

#[test]
fn charge_over_max_at_root_unwinds_leaf_and_middle() {
    let (root, mid, leaf) = chain(10, 50, 20);
    assert!(try_charge(&*mid, 6).is_ok());
    let failed = try_charge(&*leaf, 5).unwrap_err();
    assert!(std::ptr::eq(failed, &*root));
    assert_eq!(usages(&[&leaf, &mid, &root]), [0, 6, 6]);
    assert_eq!(failcnts(&[&leaf, &mid, &root]), [0, 0, 1]);
    assert_eq!(Level::get(&root.watermark), 6);
    assert_eq!(Level::get(&mid.watermark), 11);
}

#[test]
fn charge_after_max_write_below_usage_is_refused() {
    let (root, mid, leaf) = chain(100, 100, 100);
    charge(&*leaf, 6);
    assert_eq!(mid.write_max(4), 6);
    assert!(std::ptr::eq(try_charge(&*leaf, 1).unwrap_err(), &*mid));
    assert_eq!(usages(&[&leaf, &mid, &root]), [6, 6, 6]);
    assert_eq!(failcnts(&[&leaf, &mid, &root]), [0, 1, 0]);
}

#[test]
fn forced_charge_goes_over_max_and_raises_watermark() {
    let (root, mid, leaf) = chain(10, 5, 3);
    charge(&*leaf, 12);
    assert_eq!(usages(&[&leaf, &mid, &root]), [12, 12, 12]);
    assert_eq!(failcnts(&[&leaf, &mid, &root]), [0, 0, 0]);
    assert_eq!(Level::get(&mid.watermark), 12);
    // Over max, any try_charge is refused at the lowest level over its limit.
    assert!(std::ptr::eq(try_charge(&*leaf, 1).unwrap_err(), &*leaf));
    uncharge(&*leaf, 12);
    assert_eq!(usages(&[&leaf, &mid, &root]), [0, 0, 0]);
}

#[test]
fn watermarks_keep_the_peak_and_local_watermark_restarts_after_reset() {
    let (root, _mid, leaf) = chain(100, 100, 100);
    assert!(try_charge(&*leaf, 9).is_ok());
    uncharge(&*leaf, 6);
    assert!(try_charge(&*leaf, 2).is_ok());
    assert_eq!(Level::get(&leaf.watermark), 9);
    assert_eq!(Level::get(&leaf.local_watermark), 9);

    leaf.reset_local_watermark();
    assert_eq!(Level::get(&leaf.local_watermark), 5);
    assert!(try_charge(&*leaf, 1).is_ok());
    assert_eq!(Level::get(&leaf.local_watermark), 6);
    assert_eq!(Level::get(&leaf.watermark), 9);
    charge(&*leaf, 5);
    assert_eq!(Level::get(&leaf.local_watermark), 11);
    assert_eq!(Level::get(&leaf.watermark), 11);
    assert_eq!(Level::get(&root.watermark), 11);
}

#[test]
fn watermark_is_not_raised_by_uncharge_or_at_the_refusing_level() {
    let (root, mid, leaf) = chain(100, 4, 100);
    assert!(try_charge(&*leaf, 3).is_ok());
    assert!(try_charge(&*leaf, 2).is_err());
    uncharge(&*leaf, 3);
    assert_eq!(Level::get(&mid.watermark), 3);
    assert_eq!(Level::get(&root.watermark), 3);
    assert_eq!(Level::get(&leaf.local_watermark), 5);
}

#[test]
fn protected_usage_propagates_to_parent_children_sums() {
    let root = Level::new(None, PAGE_COUNTER_MAX, true);
    let a = Level::new(Some(&root), PAGE_COUNTER_MAX, true);
    let b = Level::new(Some(&root), PAGE_COUNTER_MAX, true);
    Level::set(&a.min, 3);
    Level::set(&a.low, 5);
    Level::set(&b.low, 10);

    assert!(try_charge(&*a, 4).is_ok());
    charge(&*b, 7);
    assert_eq!(Level::get_long(&a.min_usage), 3);
    assert_eq!(Level::get_long(&a.low_usage), 4);
    assert_eq!(Level::get_long(&b.min_usage), 0);
    assert_eq!(Level::get_long(&b.low_usage), 7);
    assert_eq!(Level::get_long(&root.children_min_usage), 3);
    assert_eq!(Level::get_long(&root.children_low_usage), 11);
    // The root has no parent to report to.
    assert_eq!(Level::get_long(&root.min_usage), 0);

    uncharge(&*a, 2);
    assert_eq!(Level::get_long(&a.min_usage), 2);
    assert_eq!(Level::get_long(&a.low_usage), 2);
    assert_eq!(Level::get_long(&root.children_min_usage), 2);
    assert_eq!(Level::get_long(&root.children_low_usage), 9);

    uncharge(&*a, 2);
    uncharge(&*b, 7);
    assert_eq!(Level::get_long(&root.children_min_usage), 0);
    assert_eq!(Level::get_long(&root.children_low_usage), 0);
}

#[test]
fn refused_charge_leaves_protected_usage_as_before() {
    let root = Level::new(None, 5, true);
    let a = Level::new(Some(&root), PAGE_COUNTER_MAX, true);
    Level::set(&a.low, 100);
    assert!(try_charge(&*a, 3).is_ok());
    assert!(try_charge(&*a, 3).is_err());
    assert_eq!(a.usage(), 3);
    assert_eq!(Level::get_long(&a.low_usage), 3);
    assert_eq!(Level::get_long(&root.children_low_usage), 3);
}

#[test]
fn counters_without_protection_support_do_not_propagate() {
    let root = Level::new(None, PAGE_COUNTER_MAX, false);
    let a = Level::new(Some(&root), PAGE_COUNTER_MAX, false);
    Level::set(&a.min, 3);
    charge(&*a, 4);
    assert_eq!(Level::get_long(&a.min_usage), 0);
    assert_eq!(Level::get_long(&root.children_min_usage), 0);
}

#[test]
fn uncharge_underflow_is_reported_and_clamped_to_zero() {
    let (root, mid, leaf) = chain(100, 100, 100);
    charge(&*mid, 2);
    uncharge(&*leaf, 3);
    assert_eq!(usages(&[&leaf, &mid, &root]), [0, 0, 0]);
    let reports: Vec<usize> = [&leaf, &mid, &root]
        .iter()
        .map(|l| l.underflows.load(std::sync::atomic::Ordering::Relaxed))
        .collect();
    assert_eq!(reports, [1, 1, 1]);
    // A clamped counter charges normally afterwards instead of refusing a wrapped value.
    assert!(try_charge(&*leaf, 4).is_ok());
    assert_eq!(usages(&[&leaf, &mid, &root]), [4, 4, 4]);
}

#[test]
fn cancel_touches_only_its_own_level() {
    let (root, mid, leaf) = chain(100, 100, 100);
    charge(&*leaf, 5);
    cancel(&*leaf, 2);
    assert_eq!(usages(&[&leaf, &mid, &root]), [3, 5, 5]);
}

#[test]
fn concurrent_charges_and_uncharges_on_threads_balance_to_zero() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 20_000;
    let root = Level::new(None, 64, true);
    let mid = Level::new(Some(&root), 48, true);
    Level::set(&mid.low, 8);
    let leaves: Vec<_> = (0..2).map(|_| Level::new(Some(&mid), 40, true)).collect();
    for leaf in &leaves {
        Level::set(&leaf.min, 4);
    }

    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let leaf = Arc::clone(&leaves[t % 2]);
            std::thread::spawn(move || {
                let mut refused = 0usize;
                for i in 0..ROUNDS {
                    let nr = 1 + (i + t) % 7;
                    if try_charge(&*leaf, nr).is_ok() {
                        assert!(leaf.usage() >= nr as isize);
                        uncharge(&*leaf, nr);
                    } else {
                        refused += 1;
                    }
                    charge(&*leaf, 1);
                    uncharge(&*leaf, 1);
                }
                refused
            })
        })
        .collect();
    let refused: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();

    for l in [&leaves[0], &leaves[1], &mid, &root] {
        assert_eq!(l.usage(), 0);
        assert_eq!(l.underflows.load(std::sync::atomic::Ordering::Relaxed), 0);
        assert!(Level::get(&l.watermark) >= Level::get(&l.local_watermark));
    }
    // Each refusal was counted exactly once, at one level.
    let counted: usize = [&leaves[0], &leaves[1], &mid, &root]
        .iter()
        .map(|l| Level::get(&l.failcnt))
        .sum();
    assert_eq!(counted, refused);
    // Successful charges keep the root at or below 64; forced pages and refused charges not yet
    // taken back can add to what a forced charge sees.
    assert!(Level::get(&root.watermark) <= 64 + THREADS * 7);
    assert_eq!(
        Level::get_long(&root.children_low_usage),
        Level::get_long(&mid.low_usage)
    );
    let sum_min: isize = leaves.iter().map(|l| Level::get_long(&l.min_usage)).sum();
    assert_eq!(Level::get_long(&mid.children_min_usage), sum_min);
}
