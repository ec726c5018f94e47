// SPDX-License-Identifier: GPL-2.0

//! KUnit suites written in Rust, for 6.12 (which has no `#[kunit_tests]`).
//!
//! [`kunit_suite!`] builds a `struct kunit_suite` and its `struct kunit_case` array as
//! statics and puts a pointer to the suite in the `.kunit_test_suites` section. The module
//! loader collects that section and KUnit runs the suite when the module goes live, printing
//! KTAP to the kernel log (unless `kunit.enable=0` is on the kernel command line).
//!
//! A case is a plain function returning [`TestResult`]; the assertion macros log where and
//! why a check failed and return [`Failed`], which marks the case as failed.
//!
//! ```ignore
//! fn two_pages_charge_two_pages() -> TestResult {
//!     kunit_assert_eq!(1 + 1, 2);
//!     Ok(())
//! }
//!
//! kunit_suite!(EXAMPLE_SUITE, "memcg_rs_example", [two_pages_charge_two_pages]);
//! ```

use kernel::bindings;
use kernel::str::CStr;

/// A failed check. The assertion macros have already logged the details.
#[derive(Debug)]
pub(crate) struct Failed;

/// The result of one KUnit case.
pub(crate) type TestResult = core::result::Result<(), Failed>;

/// Builds one entry of a suite's case array.
pub(crate) const fn case(
    name: &'static CStr,
    run: unsafe extern "C" fn(*mut bindings::kunit),
) -> bindings::kunit_case {
    // SAFETY: `kunit_case` is a C struct of pointers, an optional function pointer and
    // integer-valued enums, for all of which all-zero is valid (it is the array terminator).
    let mut c: bindings::kunit_case = unsafe { core::mem::zeroed() };
    c.run_case = Some(run);
    c.name = name.as_char_ptr();
    c
}

/// The zeroed entry that ends a case array.
pub(crate) const fn case_end() -> bindings::kunit_case {
    // SAFETY: as in `case`, all-zero is a valid `kunit_case`.
    unsafe { core::mem::zeroed() }
}

/// Builds a suite named `name` over the zero-terminated case array `cases`.
pub(crate) const fn suite(name: &str, cases: *mut bindings::kunit_case) -> bindings::kunit_suite {
    // SAFETY: `kunit_suite` is a C struct of a name buffer, pointers, optional function
    // pointers and integers, for all of which all-zero is valid.
    let mut s: bindings::kunit_suite = unsafe { core::mem::zeroed() };
    let bytes = name.as_bytes();
    // Keep the terminating NUL that zeroing left in the last byte.
    assert!(bytes.len() < s.name.len(), "KUnit suite name too long");
    let mut i = 0;
    while i < bytes.len() {
        s.name[i] = bytes[i] as _;
        i += 1;
    }
    s.test_cases = cases;
    s
}

/// Runs `case` for the KUnit test `test` and records a failure in it.
///
/// # Safety
///
/// `test` must be the `struct kunit` KUnit passed to the running case.
pub(crate) unsafe fn run_case(test: *mut bindings::kunit, name: &str, case: fn() -> TestResult) {
    if case().is_err() {
        kernel::kunit::err(format_args!("    # {}: FAILED\n", name));
        // SAFETY: `test` is live for the whole case (caller's contract). KUnit reads `status`
        // only after the case has finished and documents writes during it as WRITE_ONCE,
        // which a volatile store is.
        unsafe {
            core::ptr::write_volatile(
                core::ptr::addr_of_mut!((*test).status),
                bindings::kunit_status_KUNIT_FAILURE,
            )
        };
    }
}

/// Marks the running case as skipped because `reason` (KTAP `# SKIP reason`), for cases
/// whose fixture is missing. `make test` counts a skipped case as a failure.
pub(crate) fn skip(reason: &str) {
    // SAFETY: returns the test running on this thread, or NULL.
    let test = unsafe { bindings::kunit_get_current_test() };
    if test.is_null() {
        return;
    }
    // SAFETY: `test` is the running test, live for the case; KUnit reads `status_comment`
    // and `status` only after the case has finished.
    unsafe {
        let comment = &mut (*test).status_comment;
        let n = reason.len().min(comment.len() - 1);
        for (dst, src) in comment.iter_mut().zip(&reason.as_bytes()[..n]) {
            *dst = *src as _;
        }
        comment[n] = 0;
        core::ptr::write_volatile(
            core::ptr::addr_of_mut!((*test).status),
            bindings::kunit_status_KUNIT_SKIPPED,
        );
    }
}

/// Defines a KUnit suite: `kunit_suite!(STATIC_NAME, "suite_name", [case_a, case_b]);`.
///
/// Each case is a `fn() -> TestResult` in scope at the macro call.
macro_rules! kunit_suite {
    ($suite:ident, $name:literal, [$($case:ident),+ $(,)?]) => {
        #[allow(non_snake_case)]
        mod $suite {
            use kernel::bindings;

            const N: usize = [$(stringify!($case)),+].len();

            static mut CASES: [bindings::kunit_case; N + 1] = [
                $($crate::kunit::case(kernel::c_str!(stringify!($case)), {
                    /// # Safety
                    ///
                    /// Only KUnit calls this, with the `struct kunit` of this case.
                    unsafe extern "C" fn run(test: *mut bindings::kunit) {
                        // SAFETY: KUnit calls `run_case` with the test of this case.
                        unsafe { $crate::kunit::run_case(test, stringify!($case), super::$case) }
                    }
                    run
                }),)+
                $crate::kunit::case_end(),
            ];

            // KUnit owns the case array and the suite once the module is loaded (it writes
            // their status fields), so they are `static mut` that Rust only takes the
            // address of, never a reference to.
            static mut SUITE: bindings::kunit_suite =
                $crate::kunit::suite($name, core::ptr::addr_of_mut!(CASES).cast());

            #[used]
            #[link_section = ".kunit_test_suites"]
            static mut SUITE_ENTRY: *const bindings::kunit_suite = core::ptr::addr_of_mut!(SUITE);
        }
    };
}

/// Fails the enclosing KUnit case unless `cond` holds.
macro_rules! kunit_assert {
    ($cond:expr $(,)?) => {
        if !$cond {
            kernel::kunit::err(format_args!(
                "    # ASSERTION FAILED at {}:{}: {}\n",
                file!(),
                line!(),
                stringify!($cond)
            ));
            return Err($crate::kunit::Failed);
        }
    };
}

/// Fails the enclosing KUnit case unless `left == right`, logging both values.
macro_rules! kunit_assert_eq {
    ($left:expr, $right:expr $(,)?) => {
        match (&$left, &$right) {
            (left, right) => {
                if !(*left == *right) {
                    kernel::kunit::err(format_args!(
                        "    # ASSERTION FAILED at {}:{}: {} == {}\n    #   left: {:?}\n    #  right: {:?}\n",
                        file!(),
                        line!(),
                        stringify!($left),
                        stringify!($right),
                        left,
                        right
                    ));
                    return Err($crate::kunit::Failed);
                }
            }
        }
    };
}

/// Skips the enclosing KUnit case with a reason (see [`skip`]).
macro_rules! kunit_skip {
    ($reason:expr) => {{
        $crate::kunit::skip($reason);
        return Ok(());
    }};
}
