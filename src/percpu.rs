// SPDX-License-Identifier: GPL-2.0

//! Per-CPU data without a per-CPU allocator abstraction: one cache-line-aligned
//! element per possible CPU, indexed by CPU number.

use crate::shim;
use kernel::prelude::*;

/// `T` alone on its cache lines, so that CPUs do not share lines.
#[repr(align(64))]
pub(crate) struct CacheAligned<T>(pub(crate) T);

/// One `T` per possible CPU.
pub(crate) struct PerCpu<T> {
    items: KVec<CacheAligned<T>>,
}

impl<T> PerCpu<T> {
    /// Makes the element of each possible CPU with `make(cpu)`.
    pub(crate) fn new(make: impl Fn(usize) -> T) -> Result<Self> {
        // SAFETY: reads a variable set once at boot.
        let n = unsafe { shim::memcg_rs_nr_cpu_ids() } as usize;
        let mut items = KVec::with_capacity(n, GFP_KERNEL)?;
        for cpu in 0..n {
            items.push(CacheAligned(make(cpu)), GFP_KERNEL)?;
        }
        Ok(Self { items })
    }

    /// The element of `cpu`.
    pub(crate) fn get(&self, cpu: usize) -> &T {
        &self.items[cpu].0
    }

    /// The elements of all possible CPUs, with their CPU numbers.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, &T)> {
        self.items.iter().map(|c| &c.0).enumerate()
    }
}

/// Current's CPU, with preemption disabled until the guard is dropped.
pub(crate) struct CpuGuard {
    cpu: usize,
}

impl CpuGuard {
    pub(crate) fn new() -> Self {
        // SAFETY: `get_cpu` may be called in any context; `Drop` pairs it with `put_cpu`.
        let cpu = unsafe { shim::memcg_rs_get_cpu() } as usize;
        Self { cpu }
    }

    pub(crate) fn cpu(&self) -> usize {
        self.cpu
    }
}

impl Drop for CpuGuard {
    fn drop(&mut self) {
        // SAFETY: pairs the `get_cpu` of `new`.
        unsafe { shim::memcg_rs_put_cpu() };
    }
}
