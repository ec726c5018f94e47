// SPDX-License-Identifier: GPL-2.0

//! Declarations of the module's C shim (`src/shim.c`).

use kernel::bindings;

// `struct mem_cgroup` holds a zero-sized `u64_stats_sync` on 64-bit, which the lint flags;
// it only ever crosses the boundary behind a pointer.
#[allow(improper_ctypes)]
extern "C" {
    /// 0: OOM deferred to the end of the user page fault; 1: synchronous.
    pub(crate) static memcg_rs_oom_mode: core::ffi::c_int;
    /// Charges per measurement in the `memcg_rs_bench` KUnit suite.
    pub(crate) static memcg_rs_bench_iters: core::ffi::c_uint;
    /// The byte of `struct task_struct` holding `in_user_fault`; set before the charge ops
    /// are registered, constant after.
    pub(crate) static memcg_rs_in_user_fault_offset: core::ffi::c_ulong;
    /// The bit of `in_user_fault` in that byte.
    pub(crate) static memcg_rs_in_user_fault_mask: u8;
    pub(crate) fn memcg_rs_shim_init() -> core::ffi::c_int;
    pub(crate) fn memcg_rs_shim_exit();
    pub(crate) fn memcg_rs_cond_resched();
    pub(crate) fn memcg_rs_memory_on_v2() -> bool;
    pub(crate) fn memcg_rs_memstall_enter(flags: *mut core::ffi::c_ulong);
    pub(crate) fn memcg_rs_memstall_leave(flags: *mut core::ffi::c_ulong);
    pub(crate) fn memcg_rs_nr_cpu_ids() -> core::ffi::c_uint;
    // Where percpu.rs and charge.rs cannot do these inline.
    #[cfg(not(all(target_arch = "x86_64", not(CONFIG_PREEMPT_COUNT))))]
    pub(crate) fn memcg_rs_get_cpu() -> core::ffi::c_uint;
    #[cfg(not(all(target_arch = "x86_64", not(CONFIG_PREEMPT_COUNT))))]
    pub(crate) fn memcg_rs_put_cpu();
    #[cfg(any(not(all(target_arch = "x86_64", not(CONFIG_PREEMPT_RT))), CONFIG_KUNIT))]
    pub(crate) fn memcg_rs_in_user_fault() -> bool;
    pub(crate) fn memcg_rs_set_in_user_fault(in_fault: bool);
    pub(crate) fn memcg_rs_memcg_is_descendant(
        memcg: *mut bindings::mem_cgroup,
        root: *mut bindings::mem_cgroup,
    ) -> bool;
    /// `WARN_ONCE()` that a page counter went below zero.
    /// C's offset of the field `name` ("struct.field"), or -1 (KUnit only).
    #[cfg(CONFIG_KUNIT)]
    pub(crate) fn memcg_rs_c_layout(name: *const kernel::ffi::c_char) -> core::ffi::c_long;
    /// How many fields `memcg_rs_c_layout` knows (KUnit only).
    #[cfg(CONFIG_KUNIT)]
    pub(crate) fn memcg_rs_c_layout_count() -> core::ffi::c_uint;
    pub(crate) fn memcg_rs_warn_underflow(new: core::ffi::c_long, nr_pages: core::ffi::c_ulong);
}
