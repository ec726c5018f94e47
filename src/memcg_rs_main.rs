// SPDX-License-Identifier: GPL-2.0

//! memcg-rs: the memory cgroup charge path in Rust.
//!
//! The module root only wires the parts together; each concept lives in a file of its own.

use kernel::prelude::*;

#[macro_use]
mod kunit;

// Page counters (issue 4)
mod page_counter;
mod page_counter_algo;
#[cfg(CONFIG_KUNIT)]
mod page_counter_kunit;
// End of page counters

module! {
    type: MemcgRs,
    name: "memcg_rs",
    author: "memcg-rs developers",
    description: "Memory cgroup charge path in Rust",
    license: "GPL",
}

struct MemcgRs;

impl kernel::Module for MemcgRs {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        pr_info!("loaded\n");
        Ok(MemcgRs)
    }
}

impl Drop for MemcgRs {
    fn drop(&mut self) {
        pr_info!("unloaded\n");
    }
}
