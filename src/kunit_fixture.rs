// SPDX-License-Identifier: GPL-2.0

//! Real memcgs for KUnit cases: the cgroups `tests/kunit/kunit.sh` creates before it loads
//! the module, looked up by path.

use crate::memcg::MemCgroup;
use kernel::bindings;
use kernel::str::CStr;

/// A memcg found by its cgroup path, with a css reference held.
///
/// # Invariants
///
/// `css` is the memory css of a cgroup, with one reference owned by this value.
pub(crate) struct TestMemcg {
    css: *mut bindings::cgroup_subsys_state,
}

impl TestMemcg {
    /// The memcg of the cgroup at `path` (relative to the cgroup2 root, e.g.
    /// `/memcg_rs_kunit/s0`), if it exists and has the memory controller.
    pub(crate) fn lookup(path: &CStr) -> Option<Self> {
        // SAFETY: `path` is a NUL-terminated string; the call returns a referenced cgroup
        // or an error pointer.
        let cgrp = unsafe { bindings::cgroup_get_from_path(path.as_char_ptr()) };
        if (cgrp as usize) >= (-(bindings::MAX_ERRNO as isize)) as usize {
            return None;
        }
        // SAFETY: `cgrp` is a live cgroup we hold a reference on; the call returns its
        // memory css with a reference, or NULL.
        let css = unsafe {
            bindings::cgroup_get_e_css(cgrp, core::ptr::addr_of_mut!(bindings::memory_cgrp_subsys))
        };
        // SAFETY: drops the reference `cgroup_get_from_path` took (`cgroup_put`).
        unsafe { bindings::css_put(core::ptr::addr_of_mut!((*cgrp).self_)) };
        // INVARIANT: `css` carries the reference `cgroup_get_e_css` took.
        (!css.is_null()).then_some(Self { css })
    }

    pub(crate) fn memcg(&self) -> &MemCgroup {
        // SAFETY: a memory css is the first field of its `mem_cgroup`, which our reference
        // keeps live (type invariant).
        unsafe { MemCgroup::from_raw(self.css.cast()) }
    }

    /// The memory.events counter `event` of this memcg.
    pub(crate) fn event(&self, event: bindings::memcg_memory_event) -> i64 {
        // SAFETY: the memcg is live; the counter is an `atomic_long_t` read with READ_ONCE.
        unsafe {
            core::ptr::read_volatile(core::ptr::addr_of!(
                (*self.memcg().as_ptr()).memory_events[event as usize].counter
            ))
        }
    }

    /// memory.current, in pages.
    pub(crate) fn usage(&self) -> usize {
        self.memcg().memory().usage()
    }
}

impl Drop for TestMemcg {
    fn drop(&mut self) {
        // SAFETY: we own one reference (type invariant).
        unsafe { bindings::css_put(self.css) };
    }
}

/// Looks up a fixture memcg or skips the case: `let a = fixture!("/memcg_rs_kunit/s0");`.
macro_rules! fixture {
    ($path:expr) => {
        match $crate::kunit_fixture::TestMemcg::lookup(kernel::c_str!($path)) {
            Some(m) => m,
            None => kunit_skip!(concat!(
                "no cgroup ",
                $path,
                ": run through tests/kunit/kunit.sh"
            )),
        }
    };
}

/// The fixture memcgs `/memcg_rs_kunit/sN` for the given `N`s, as an array:
/// `let [a, b] = siblings![0, 1];`. Skips the case if one is missing.
macro_rules! siblings {
    ($($n:literal),+ $(,)?) => {
        [$(fixture!(concat!("/memcg_rs_kunit/s", $n))),+]
    };
}
