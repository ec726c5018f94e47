// SPDX-License-Identifier: GPL-2.0

//! KUnit: bindgen's struct layouts against C's, for every field the Rust code reaches
//! through a bindgen struct rather than a C helper.
//!
//! bindgen 0.73.0 emitted some paddings as 8-aligned arrays and so placed the fields after
//! them too far (in `task_struct`, every field after `rt_priority`). A Rust access to such a
//! field would read or write the wrong memory without any error; this case fails instead.
//! `scripts/check-bindgen-layout` checks every struct at build time; this checks the fields
//! the module uses against the running kernel's C. Add a field here (and to the C table in
//! `shim.c`) before reaching it from Rust.

use crate::kunit::TestResult;
use core::mem::{offset_of, size_of};
use kernel::bindings;
use kernel::c_str;
use kernel::str::CStr;

/// Checks bindgen's offset of each field against C's, by the name C's table uses.
fn check(fields: &[(&CStr, usize)]) -> TestResult {
    for (name, offset) in fields {
        // SAFETY: `name` is NUL-terminated; the function only reads it.
        let c = unsafe { crate::shim::memcg_rs_c_layout(name.as_char_ptr()) };
        let name = name.to_str().unwrap_or("?");
        kunit_assert_eq!((name, *offset as i64), (name, c as i64));
    }
    Ok(())
}

fn bindgen_places_every_field_rust_reaches_where_c_does() -> TestResult {
    use bindings::{cgroup, kunit, mem_cgroup, page_counter, task_struct};
    let fields = [
        (
            c_str!("page_counter.usage"),
            offset_of!(page_counter, usage),
        ),
        (c_str!("page_counter.emin"), offset_of!(page_counter, emin)),
        (
            c_str!("page_counter.min_usage"),
            offset_of!(page_counter, min_usage),
        ),
        (
            c_str!("page_counter.children_min_usage"),
            offset_of!(page_counter, children_min_usage),
        ),
        (c_str!("page_counter.elow"), offset_of!(page_counter, elow)),
        (
            c_str!("page_counter.low_usage"),
            offset_of!(page_counter, low_usage),
        ),
        (
            c_str!("page_counter.children_low_usage"),
            offset_of!(page_counter, children_low_usage),
        ),
        (
            c_str!("page_counter.watermark"),
            offset_of!(page_counter, watermark),
        ),
        (
            c_str!("page_counter.local_watermark"),
            offset_of!(page_counter, local_watermark),
        ),
        (
            c_str!("page_counter.failcnt"),
            offset_of!(page_counter, failcnt),
        ),
        (
            c_str!("page_counter.protection_support"),
            offset_of!(page_counter, protection_support),
        ),
        (c_str!("page_counter.min"), offset_of!(page_counter, min)),
        (c_str!("page_counter.low"), offset_of!(page_counter, low)),
        (c_str!("page_counter.high"), offset_of!(page_counter, high)),
        (c_str!("page_counter.max"), offset_of!(page_counter, max)),
        (
            c_str!("page_counter.parent"),
            offset_of!(page_counter, parent),
        ),
        (c_str!("sizeof page_counter"), size_of::<page_counter>()),
        (c_str!("mem_cgroup.css"), offset_of!(mem_cgroup, css)),
        (c_str!("mem_cgroup.memory"), offset_of!(mem_cgroup, memory)),
        (
            c_str!("mem_cgroup.memory_events"),
            offset_of!(mem_cgroup, memory_events),
        ),
        (c_str!("cgroup.self"), offset_of!(cgroup, self_)),
        (c_str!("task_struct.flags"), offset_of!(task_struct, flags)),
        (c_str!("kunit.status"), offset_of!(kunit, status)),
        (
            c_str!("kunit.status_comment"),
            offset_of!(kunit, status_comment),
        ),
    ];
    check(&fields)?;
    let mut checked = fields.len();

    // `percpu.rs` reads these with `%gs`-relative loads.
    #[cfg(target_arch = "x86_64")]
    {
        use bindings::pcpu_hot;
        let hot = [
            (
                c_str!("pcpu_hot.current_task"),
                offset_of!(pcpu_hot, __bindgen_anon_1.__bindgen_anon_1.current_task),
            ),
            (
                c_str!("pcpu_hot.preempt_count"),
                offset_of!(pcpu_hot, __bindgen_anon_1.__bindgen_anon_1.preempt_count),
            ),
            (
                c_str!("pcpu_hot.cpu_number"),
                offset_of!(pcpu_hot, __bindgen_anon_1.__bindgen_anon_1.cpu_number),
            ),
        ];
        check(&hot)?;
        checked += hot.len();
    }

    // Every entry of C's table was checked: none is left unpaired.
    // SAFETY: returns the length of a static table.
    let c_count = unsafe { crate::shim::memcg_rs_c_layout_count() } as usize;
    kunit_assert_eq!(checked, c_count);
    Ok(())
}

kunit_suite!(
    LAYOUT_SUITE,
    "memcg_rs_layout",
    [bindgen_places_every_field_rust_reaches_where_c_does]
);
