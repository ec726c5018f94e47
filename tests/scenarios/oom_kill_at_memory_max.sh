# SPDX-License-Identifier: GPL-2.0
# modes: module builtin
# A process that touches twice its cgroup's memory.max is OOM-killed, once.
. scenario.sh

mkcg oom 32M
run_in oom alloc_anon 64
expect_eq "alloc_anon exit status (128 + SIGKILL)" $? 137
expect_eq "memory.events oom" "$(event oom oom)" 1
expect_eq "memory.events oom_kill" "$(event oom oom_kill)" 1
expect_le "memory.peak" "$(cat $CG/oom/memory.peak)" $((32 << 20))
dmesg | grep -q "Memory cgroup out of memory: Killed process .* (alloc_anon)" ||
	fail "no memcg OOM kill of alloc_anon in the kernel log"
rmdir $CG/oom || fail "rmdir"
