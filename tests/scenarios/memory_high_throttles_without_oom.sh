# SPDX-License-Identifier: GPL-2.0
# modes: module builtin
# Going over memory.high (with no memory.max) throttles and never OOMs.
. scenario.sh

mkcg high "" 16M
start=$(date +%s)
run_in high alloc_anon 20
expect_eq "alloc_anon exit status" $? 0
echo "alloc_anon over memory.high took $(($(date +%s) - start)) s"
[ "$(event high high)" -gt 0 ] || fail "memory.events high stayed 0"
echo "ok: memory.events high = $(event high high)"
expect_eq "memory.events oom" "$(event high oom)" 0
expect_eq "memory.events oom_kill" "$(event high oom_kill)" 0
rmdir $CG/high || fail "rmdir"
