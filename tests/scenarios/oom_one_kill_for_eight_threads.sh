# SPDX-License-Identifier: GPL-2.0
# modes: module builtin
# Eight threads of one process exceed memory.max together: exactly one OOM kill.
. scenario.sh

mkcg threads 32M
run_in threads alloc_anon 8 8
expect_eq "alloc_anon exit status (128 + SIGKILL)" $? 137
expect_eq "memory.events oom_kill" "$(event threads oom_kill)" 1
expect_le "memory.peak" "$(cat $CG/threads/memory.peak)" $((32 << 20))
rmdir $CG/threads || fail "rmdir"
