// SPDX-License-Identifier: GPL-2.0

//! Exhaustive interleavings (bounded by preemptions) of the page counter algorithm under loom.
//!
//! Each model is two or three threads over a two- or three-level hierarchy with small limits.
//! Run with `RUSTFLAGS="--cfg loom" cargo test --release`.

use crate::level::{Fidelity, Level, PAGE_COUNTER_MAX};
use crate::page_counter_algo::{charge, read, try_charge, uncharge};
use loom::thread;
use std::sync::Arc;

/// Runs `f` under loom with at most `preemptions` forced context switches per execution.
fn model(preemptions: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(preemptions);
    builder.check(f);
}

fn assert_no_underflow(levels: &[&Arc<Level>]) {
    for l in levels {
        assert_eq!(l.underflows.load(std::sync::atomic::Ordering::Relaxed), 0);
    }
}

/// Two forced charges and a successful `try_charge` from three threads: every add is counted at
/// every level, and the peak is the full sum.
#[test]
fn concurrent_charges_lose_no_update() {
    model(3, || {
        let root = Level::new(None, PAGE_COUNTER_MAX, false);
        let leaf = Level::new(Some(&root), 4, false);

        let a = Arc::clone(&leaf);
        let ta = thread::spawn(move || charge(&*a, 1));
        let b = Arc::clone(&leaf);
        let tb = thread::spawn(move || charge(&*b, 2));
        let ok = try_charge(&*root, 4).is_ok();
        ta.join().unwrap();
        tb.join().unwrap();

        assert!(ok);
        assert_eq!(read(&*leaf), 3);
        assert_eq!(root.usage(), 7);
        assert_eq!(Level::get(&leaf.watermark), 3);
        assert_eq!(Level::get(&leaf.local_watermark), 3);
        assert_eq!(Level::get(&root.watermark), 7);
        assert_eq!(Level::get(&root.local_watermark), 7);
    });
}

/// Sibling leaves compete for a middle level with room for 2 of the 3 pages asked for: no level
/// ever ends above its max, every level holds exactly the successful charges below it, a
/// refused charge leaves nothing behind, and each refusal is counted once, where it happened.
#[test]
fn refused_charges_unwind_exactly_and_successes_stay_within_max() {
    model(3, || {
        let root = Level::new(None, PAGE_COUNTER_MAX, false);
        let mid = Level::new(Some(&root), 2, false);
        let a = Level::new(Some(&mid), 2, false);
        let b = Level::new(Some(&mid), 2, false);

        let la = Arc::clone(&a);
        let ta = thread::spawn(move || try_charge(&*la, 2).is_ok());
        let lb = Arc::clone(&b);
        let tb = thread::spawn(move || try_charge(&*lb, 1).is_ok());
        let ok_a = ta.join().unwrap();
        let ok_b = tb.join().unwrap();

        let charged_a = if ok_a { 2 } else { 0 };
        let charged_b = if ok_b { 1 } else { 0 };
        assert_eq!(a.usage(), charged_a);
        assert_eq!(b.usage(), charged_b);
        assert_eq!(mid.usage(), charged_a + charged_b);
        assert_eq!(root.usage(), charged_a + charged_b);
        assert!(mid.usage() <= 2);
        // Whichever add reached the middle level first fits, so one charge always succeeds.
        assert!(ok_a || ok_b);
        let refusals = usize::from(!ok_a) + usize::from(!ok_b);
        assert_eq!(Level::get(&mid.failcnt), refusals);
        assert_eq!(Level::get(&a.failcnt), 0);
        assert_eq!(Level::get(&b.failcnt), 0);
        assert_eq!(Level::get(&root.failcnt), 0);
        // The root never saw a refused charge.
        assert_eq!(Level::get(&root.watermark), root.usage() as usize);
        assert_no_underflow(&[&a, &b, &mid, &root]);
    });
}

/// A successful non-forced charge never pushes a level above its max, even while another
/// thread's charge is racing: each thread checks after its own success that its charge plus
/// what was already held fits, and the sum of successes at each level ends within max.
#[test]
fn successful_try_charge_never_leaves_a_level_above_max() {
    model(3, || {
        let root = Level::new(None, 3, false);
        let leaf = Level::new(Some(&root), 2, false);
        let other = Level::new(Some(&root), PAGE_COUNTER_MAX, false);

        let l = Arc::clone(&leaf);
        let t1 = thread::spawn(move || [try_charge(&*l, 1).is_ok(), try_charge(&*l, 1).is_ok()]);
        let o = Arc::clone(&other);
        let t2 = thread::spawn(move || try_charge(&*o, 2).is_ok());
        let leaf_ok = t1.join().unwrap();
        let other_ok = t2.join().unwrap();

        let leaf_pages = leaf_ok.iter().filter(|&&ok| ok).count() as isize;
        let other_pages = if other_ok { 2 } else { 0 };
        assert_eq!(leaf.usage(), leaf_pages);
        assert_eq!(other.usage(), other_pages);
        assert_eq!(root.usage(), leaf_pages + other_pages);
        assert!(root.usage() <= 3);
        assert!(Level::get(&root.watermark) <= 3);
        assert!(leaf.usage() <= 2);
    });
}

/// Balanced charge/uncharge pairs from three threads, with protection tracking on, return
/// every level to zero, and the parent's children_{min,low}_usage equal the sums of the
/// children's contributions.
#[test]
fn balanced_charge_and_uncharge_return_usage_to_zero() {
    model(2, || {
        let root = Level::new(None, 3, true);
        let a = Level::new(Some(&root), PAGE_COUNTER_MAX, true);
        let b = Level::new(Some(&root), PAGE_COUNTER_MAX, true);
        Level::set(&a.min, 1);
        Level::set(&b.low, 1);

        let la = Arc::clone(&a);
        let ta = thread::spawn(move || {
            if try_charge(&*la, 2).is_ok() {
                uncharge(&*la, 2);
            }
        });
        let lb = Arc::clone(&b);
        let tb = thread::spawn(move || {
            charge(&*lb, 1);
            uncharge(&*lb, 1);
        });
        if try_charge(&*b, 2).is_ok() {
            uncharge(&*b, 2);
        }
        ta.join().unwrap();
        tb.join().unwrap();

        for l in [&a, &b, &root] {
            assert_eq!(l.usage(), 0);
        }
        assert_no_underflow(&[&a, &b, &root]);
        assert_eq!(
            Level::get_long(&root.children_min_usage),
            Level::get_long(&a.min_usage) + Level::get_long(&b.min_usage)
        );
        assert_eq!(
            Level::get_long(&root.children_low_usage),
            Level::get_long(&a.low_usage) + Level::get_long(&b.low_usage)
        );
        for l in [&a, &b, &root] {
            assert!(Level::get(&l.watermark) >= Level::get(&l.local_watermark));
        }
    });
}

/// The peak never ends below a usage that any thread observed after its own charge, and
/// `watermark >= local_watermark` holds at every level once the charges are done.
#[test]
fn watermark_never_below_any_observed_usage() {
    model(3, || {
        let root = Level::new(None, PAGE_COUNTER_MAX, false);
        let leaf = Level::new(Some(&root), PAGE_COUNTER_MAX, false);

        let spawn = |nr: usize| {
            let l = Arc::clone(&leaf);
            thread::spawn(move || {
                charge(&*l, nr);
                let seen = [l.usage(), l.parent.as_ref().unwrap().usage()];
                uncharge(&*l, nr);
                seen
            })
        };
        let t1 = spawn(1);
        let t2 = spawn(2);
        let s1 = t1.join().unwrap();
        let s2 = t2.join().unwrap();

        for (i, l) in [&leaf, &root].into_iter().enumerate() {
            let wm = Level::get(&l.watermark) as isize;
            assert!(
                wm >= s1[i] && wm >= s2[i],
                "watermark {wm} < seen {s1:?} {s2:?}"
            );
            assert!(Level::get(&l.watermark) >= Level::get(&l.local_watermark));
            assert_eq!(l.usage(), 0);
        }
    });
}

/// A per-fd `memory.peak` reset racing with a charge: `local_watermark` restarts from the
/// usage it read, is raised by a later charge, and never passes `watermark`.
#[test]
fn local_watermark_reset_racing_charge_stays_below_watermark() {
    model(3, || {
        let leaf = Level::new(None, PAGE_COUNTER_MAX, false);
        charge(&*leaf, 3);
        uncharge(&*leaf, 2);

        let l = Arc::clone(&leaf);
        let t = thread::spawn(move || l.reset_local_watermark());
        charge(&*leaf, 1);
        t.join().unwrap();

        let local = Level::get(&leaf.local_watermark);
        assert_eq!(Level::get(&leaf.watermark), 3);
        assert!(local <= 3);
        assert!((1..=2).contains(&local), "local_watermark {local}");
    });
}

/// The memory.max race of 6.12: `memory_max_write()` does `xchg(&max, new)` and then reads
/// usage to decide whether to reclaim. A racing `try_charge` must not both succeed against
/// the old limit and stay invisible to that read: one of the two sides sees the other.
fn max_write_race(fidelity: Fidelity) {
    model(3, move || {
        let root = Level::with_model(None, 2, false, fidelity);
        let leaf = Level::with_model(Some(&root), PAGE_COUNTER_MAX, false, fidelity);
        charge(&*leaf, 1);

        let r = Arc::clone(&root);
        // Shrinks the root to the usage it already has.
        let writer = thread::spawn(move || r.write_max(1));
        let charged = try_charge(&*leaf, 1).is_ok();
        let seen_by_writer = writer.join().unwrap();

        let writer_done = seen_by_writer <= 1;
        assert!(
            !(charged && writer_done),
            "charge passed the old max and the max writer saw usage {seen_by_writer}: \
             memory.max left exceeded without reclaim"
        );
        assert_eq!(root.usage(), 1 + isize::from(charged));
        assert_eq!(leaf.usage(), root.usage());
    });
}

#[test]
fn try_charge_racing_max_write_is_seen_by_one_side() {
    max_write_race(Fidelity::Faithful);
}

/// Negative control: with the SeqCst pair weakened to Relaxed, the model above must find the
/// interleaving where the charge slips past the new limit. This shows the model can fail.
#[test]
#[should_panic(expected = "memory.max left exceeded without reclaim")]
fn try_charge_racing_max_write_fails_without_seqcst() {
    max_write_race(Fidelity::WeakenSeqCst);
}
