// SPDX-License-Identifier: GPL-2.0

//! Per-CPU data without a per-CPU allocator abstraction: one cache-line-aligned
//! element per possible CPU, indexed by CPU number. Also the running CPU and its
//! preemption and interrupt state, which the charge fast path reads inline.

use crate::shim;
use kernel::prelude::*;

/// `T` alone on its cache lines, so that CPUs do not share lines.
#[repr(align(64))]
pub(crate) struct CacheAligned<T>(pub(crate) T);

/// One `T` per possible CPU.
///
/// # Invariants
///
/// `items` has one element per possible CPU: `items.len() == nr_cpu_ids`.
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
        // INVARIANT: one element was pushed for each of the `nr_cpu_ids` CPUs.
        Ok(Self { items })
    }

    /// The element of `cpu`.
    pub(crate) fn get(&self, cpu: usize) -> &T {
        &self.items[cpu].0
    }

    /// The element of the CPU `cpu` pins, without a bounds check.
    #[inline]
    pub(crate) fn this(&self, cpu: &CpuGuard) -> &T {
        // SAFETY: `cpu.cpu()` is the number of a running CPU, so below `nr_cpu_ids`
        // (`CpuGuard` invariant), which is `items.len()` (type invariant).
        unsafe { &self.items.get_unchecked(cpu.cpu()).0 }
    }

    /// The elements of all possible CPUs, with their CPU numbers.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, &T)> {
        self.items.iter().map(|c| &c.0).enumerate()
    }
}

/// The running CPU and task on x86-64: fields of the per-CPU `struct pcpu_hot`
/// (arch/x86/include/asm/current.h), each read with one `%gs`-relative instruction, as C's
/// `this_cpu_read()` does, instead of a call into the C shim.
#[cfg(all(target_arch = "x86_64", not(CONFIG_PREEMPT_RT)))]
mod x86 {
    use core::arch::asm;
    use core::mem::offset_of;
    use kernel::bindings;

    macro_rules! pcpu_hot_offset {
        ($field:ident) => {
            offset_of!(bindings::pcpu_hot, __bindgen_anon_1.__bindgen_anon_1.$field)
        };
    }

    /// `raw_smp_processor_id()`.
    #[cfg(not(CONFIG_PREEMPT_COUNT))]
    #[inline(always)]
    pub(super) fn cpu_number() -> usize {
        let cpu: usize;
        // SAFETY: `pcpu_hot` is an exported per-CPU variable and `%gs` points to this CPU's
        // per-CPU area, so this reads this CPU's `cpu_number`; one instruction, so an
        // interrupt cannot come between finding the area and reading it. The 32-bit load
        // clears the upper half of the 64-bit register, and CPU numbers are not negative.
        unsafe {
            asm!(
                "movl %gs:{hot}+{offset}(%rip), {cpu:e}",
                hot = sym bindings::pcpu_hot,
                offset = const pcpu_hot_offset!(cpu_number),
                cpu = out(reg) cpu,
                options(att_syntax, nostack, preserves_flags, readonly),
            )
        };
        cpu
    }

    /// `preempt_count()`, with the `PREEMPT_NEED_RESCHED` bit masked.
    #[inline(always)]
    pub(super) fn preempt_count() -> u32 {
        let count: u32;
        // SAFETY: as in `cpu_number`.
        unsafe {
            asm!(
                "movl %gs:{hot}+{offset}(%rip), {count:e}",
                hot = sym bindings::pcpu_hot,
                offset = const pcpu_hot_offset!(preempt_count),
                count = out(reg) count,
                options(att_syntax, nostack, preserves_flags, readonly),
            )
        };
        count & !bindings::PREEMPT_NEED_RESCHED
    }

    /// `current`.
    #[inline(always)]
    pub(super) fn current() -> *mut bindings::task_struct {
        let task: *mut bindings::task_struct;
        // SAFETY: as in `cpu_number`. As with C's `this_cpu_read_stable()`, a task reads
        // the same value wherever it runs, so reads may be merged.
        unsafe {
            asm!(
                "movq %gs:{hot}+{offset}(%rip), {task}",
                hot = sym bindings::pcpu_hot,
                offset = const pcpu_hot_offset!(current_task),
                task = out(reg) task,
                options(att_syntax, nostack, preserves_flags, readonly, pure),
            )
        };
        task
    }
}

/// `get_cpu()` and `put_cpu()` inline, where there is no preemption count to maintain and
/// `preempt_disable()` is only a compiler barrier (`CONFIG_PREEMPT_COUNT` off, as with
/// `CONFIG_PREEMPT_NONE` and no debugging options).
#[cfg(all(target_arch = "x86_64", not(CONFIG_PREEMPT_COUNT)))]
mod pin {
    use core::sync::atomic::{compiler_fence, Ordering};

    #[inline(always)]
    pub(super) fn get_cpu() -> usize {
        // `barrier()`: nothing in the section moves out of it.
        compiler_fence(Ordering::SeqCst);
        super::x86::cpu_number()
    }

    #[inline(always)]
    pub(super) fn put_cpu() {
        compiler_fence(Ordering::SeqCst);
    }
}

/// `get_cpu()` and `put_cpu()` through the C shim, which maintains the preemption count
/// and, with `CONFIG_PREEMPTION`, reschedules in `put_cpu()` when it has to.
#[cfg(not(all(target_arch = "x86_64", not(CONFIG_PREEMPT_COUNT))))]
mod pin {
    use crate::shim;

    #[inline(always)]
    pub(super) fn get_cpu() -> usize {
        // SAFETY: `get_cpu` may be called in any context; `CpuGuard` pairs it with `put_cpu`.
        unsafe { shim::memcg_rs_get_cpu() as usize }
    }

    #[inline(always)]
    pub(super) fn put_cpu() {
        // SAFETY: pairs a `get_cpu` (`CpuGuard`).
        unsafe { shim::memcg_rs_put_cpu() };
    }
}

/// Whether current runs in task context, outside any interrupt (`in_task()`).
#[cfg(all(target_arch = "x86_64", not(CONFIG_PREEMPT_RT)))]
#[inline]
pub(crate) fn in_task() -> bool {
    use kernel::bindings::{HARDIRQ_BITS, HARDIRQ_SHIFT, NMI_BITS, NMI_SHIFT, SOFTIRQ_OFFSET};
    // `NMI_MASK | HARDIRQ_MASK | SOFTIRQ_OFFSET`.
    const NOT_TASK: u32 = (((1 << NMI_BITS) - 1) << NMI_SHIFT)
        | (((1 << HARDIRQ_BITS) - 1) << HARDIRQ_SHIFT)
        | SOFTIRQ_OFFSET;
    x86::preempt_count() & NOT_TASK == 0
}

/// The task running on this CPU (`current`).
#[cfg(all(target_arch = "x86_64", not(CONFIG_PREEMPT_RT)))]
#[inline]
pub(crate) fn current() -> *mut kernel::bindings::task_struct {
    x86::current()
}

/// Current's CPU, with preemption disabled until the guard is dropped.
///
/// # Invariants
///
/// `cpu` is the number of the CPU current runs on, which is below `nr_cpu_ids`, and current
/// stays on it for the guard's lifetime.
pub(crate) struct CpuGuard {
    cpu: usize,
}

impl CpuGuard {
    /// Disables preemption and reads current's CPU (`get_cpu()`).
    #[inline]
    pub(crate) fn new() -> Self {
        let cpu = pin::get_cpu();
        // INVARIANT: preemption is disabled until `drop`, so `cpu` stays current's CPU.
        Self { cpu }
    }

    /// The pinned CPU's number.
    #[inline]
    pub(crate) fn cpu(&self) -> usize {
        self.cpu
    }
}

impl Drop for CpuGuard {
    #[inline]
    fn drop(&mut self) {
        pin::put_cpu();
    }
}
