// SPDX-License-Identifier: GPL-2.0

//! KUnit checks of the KUnit glue itself: the harness must see passing and failing cases.
//!
//! Loading the module with `memcg_rs_kunit_selfcheck` failing on purpose is how the test
//! harness proves a broken case fails `make test`; see `tests/scenarios`.

use crate::kunit::TestResult;

fn assert_macros_pass_on_true_conditions() -> TestResult {
    kunit_assert!(2 > 1);
    kunit_assert_eq!(kernel::bindings::PAGE_SIZE as usize, 4096);
    Ok(())
}

fn failed_case_returns_before_later_checks() -> TestResult {
    fn inner() -> TestResult {
        kunit_assert_eq!(1, 2);
        Ok(())
    }
    kunit_assert!(inner().is_err());
    Ok(())
}

kunit_suite!(
    SELFTEST_SUITE,
    "memcg_rs_kunit_glue",
    [assert_macros_pass_on_true_conditions, failed_case_returns_before_later_checks]
);
