// SPDX-License-Identifier: GPL-2.0

//! memcg-rs: the memory cgroup charge path in Rust.
//!
//! Registers a `struct memcg_charge_ops` with the kernel's pluggable charge path
//! (`include/linux/memcg_charge_ops.h`): from then on every memcg charge of the running
//! kernel goes through [`charge::try_charge`], and pages returned to the per-CPU stock go to
//! [`stock::Stock`]. Unloading unregisters, which waits for the calls in flight and then
//! drains every stock back to the counters, so the built-in path takes over with nothing lost.
//!
//! The module root only wires the parts together; each concept lives in a file of its own.

use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::bindings;
use kernel::error::to_result;
use kernel::prelude::*;

#[macro_use]
mod kunit;
#[cfg(CONFIG_KUNIT)]
#[macro_use]
mod kunit_fixture;

// Page counters (issue 4)
mod page_counter;
mod page_counter_algo;
#[cfg(CONFIG_KUNIT)]
mod page_counter_kunit;
// End of page counters

#[cfg(CONFIG_KUNIT)]
#[path = "bench_kunit.rs"]
mod bench_kunit;
mod charge;
#[cfg(CONFIG_KUNIT)]
mod layout_kunit;
mod memcg;
mod oom;
mod ops;
mod percpu;
mod shim;
mod stats;
mod stock;

module! {
    type: MemcgRs,
    name: "memcg_rs",
    author: "memcg-rs developers",
    description: "Memory cgroup charge path in Rust",
    license: "GPL",
}

/// Everything the charge operations use, reachable from the kernel's calls into the ops.
pub(crate) struct State {
    pub(crate) stats: stats::Stats,
    pub(crate) stock: stock::Stock,
    ops: ops::ChargeOps,
}

/// The module's [`State`], set from init to exit.
static STATE: AtomicPtr<State> = AtomicPtr::new(core::ptr::null_mut());

/// The module's state. Only called between init and exit.
pub(crate) fn state() -> &'static State {
    // Acquire: pairs with the Release in init, so the state's contents are visible.
    let state = STATE.load(Ordering::Acquire);
    // SAFETY: init publishes a valid `State` before anything can call in (ops registration,
    // debugfs, CPU hotplug), and exit stops all of those before freeing it.
    unsafe { &*state }
}

/// Runs `f` on the built-in charge path: unregisters our charge ops (which waits for the
/// calls in flight and gives back our stocks), runs `f`, and registers them again. For the
/// benchmark, which compares the two paths in one boot; it must not race with module exit.
#[cfg(CONFIG_KUNIT)]
pub(crate) fn with_builtin_path<R>(f: impl FnOnce() -> R) -> Result<R> {
    let ops = state().ops.as_ptr();
    // SAFETY: init registered `ops`, which live until exit.
    to_result(unsafe { bindings::memcg_charge_ops_unregister(ops) })?;
    let r = f();
    // SAFETY: as above; registering drains the built-in stocks `f` filled.
    to_result(unsafe { bindings::memcg_charge_ops_register(ops) })?;
    Ok(r)
}

struct MemcgRs {
    state: KBox<State>,
}

impl kernel::Module for MemcgRs {
    fn init(module: &'static ThisModule) -> Result<Self> {
        // SAFETY: reads a static key.
        if !unsafe { shim::memcg_rs_memory_on_v2() } {
            pr_err!("the memory controller is mounted on a cgroup v1 hierarchy; memcg-rs supports cgroup v2 only\n");
            return Err(EINVAL);
        }

        let mut state = KBox::new(
            State {
                stats: stats::Stats::new()?,
                stock: stock::Stock::new()?,
                ops: ops::charge_ops(module.as_ptr()),
            },
            GFP_KERNEL,
        )?;
        // Release: pairs with the Acquire in `state()`.
        STATE.store(&mut *state, Ordering::Release);

        // SAFETY: the state the shim's callbacks use is published.
        if let Err(e) = to_result(unsafe { shim::memcg_rs_shim_init() }) {
            pr_err!("cannot set up CPU hotplug and debugfs: {:?}\n", e);
            STATE.store(core::ptr::null_mut(), Ordering::Release);
            return Err(e);
        }
        // SAFETY: `state.ops` lives until exit, which unregisters it first.
        let registered = unsafe { bindings::memcg_charge_ops_register(state.ops.as_ptr()) };
        if let Err(e) = to_result(registered) {
            // SAFETY: undoes the shim's init; nothing was registered.
            unsafe { shim::memcg_rs_shim_exit() };
            if e == EBUSY {
                pr_err!("another charge path is already registered\n");
            } else {
                pr_err!("cannot register the charge ops: {:?}\n", e);
            }
            STATE.store(core::ptr::null_mut(), Ordering::Release);
            return Err(e);
        }
        pr_info!("memcg charge path taken over\n");
        Ok(MemcgRs { state })
    }
}

impl Drop for MemcgRs {
    fn drop(&mut self) {
        // SAFETY: registered in init. Waits for calls in flight, then has us drain every
        // stock (`release_stocks`), so no charge or css reference is left behind.
        unsafe { bindings::memcg_charge_ops_unregister(self.state.ops.as_ptr()) };
        // SAFETY: set up in init; after this nothing calls into the state.
        unsafe { shim::memcg_rs_shim_exit() };
        STATE.store(core::ptr::null_mut(), Ordering::Release);
        pr_info!("memcg charge path handed back\n");
    }
}
