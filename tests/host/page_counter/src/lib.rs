// SPDX-License-Identifier: GPL-2.0

//! Host build of memcg-rs's page counter algorithm (`src/page_counter_algo.rs`), with a plain
//! in-memory counter level to run it on.
//!
//! `cargo test` runs the unit and threaded tests; `RUSTFLAGS="--cfg loom" cargo test --release`
//! runs the loom models, where every atomic of [`Level`] is a loom atomic.

// The algorithm is exercised by the tests only.
#![cfg_attr(not(test), allow(dead_code))]

#[path = "../../../../src/page_counter_algo.rs"]
pub(crate) mod page_counter_algo;

mod level;

#[cfg(all(test, loom))]
mod loom_tests;
#[cfg(all(test, not(loom)))]
mod unit_tests;
