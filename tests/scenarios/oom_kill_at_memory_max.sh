# SPDX-License-Identifier: GPL-2.0
# modes: module builtin
# A process that touches twice its cgroup's memory.max is OOM-killed, once.
# With memcg-rs, the OOM is recorded in the fault and resolved at its end.
. scenario.sh

if module_loaded; then
	recorded=$(mstat oom_contexts_recorded)
	resolved=$(mstat oom_contexts_resolved)
	faults=$(mstat charges_user_fault)
fi

mkcg oom 32M
run_in oom alloc_anon 64
expect_eq "alloc_anon exit status (128 + SIGKILL)" $? 137
expect_eq "memory.events oom" "$(event oom oom)" 1
expect_eq "memory.events oom_kill" "$(event oom oom_kill)" 1
expect_le "memory.peak" "$(cat $CG/oom/memory.peak)" $((32 << 20))
dmesg | grep -q "Memory cgroup out of memory: Killed process .* (alloc_anon)" ||
	fail "no memcg OOM kill of alloc_anon in the kernel log"
if module_loaded; then
	expect_gt "memcg_rs charges_user_fault" "$(mstat charges_user_fault)" "$faults"
	expect_gt "memcg_rs oom_contexts_recorded" "$(mstat oom_contexts_recorded)" "$recorded"
	expect_gt "memcg_rs oom_contexts_resolved" "$(mstat oom_contexts_resolved)" "$resolved"
fi
rmdir $CG/oom || fail "rmdir"
