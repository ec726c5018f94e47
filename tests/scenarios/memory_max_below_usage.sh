# SPDX-License-Identifier: GPL-2.0
# modes: module builtin
# Writing a memory.max below the usage of a process whose anonymous memory
# cannot be reclaimed (no swap) ends in an OOM kill, and usage falls below max.
. scenario.sh

mkcg shrink
run_in shrink alloc_anon 24 1 60 &
pid=$!
i=0
while [ "$(cat $CG/shrink/memory.current)" -lt $((24 << 20)) ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
expect_le "memory.current before the write (at least 24M)" $((24 << 20)) "$(cat $CG/shrink/memory.current)"
echo 8M >$CG/shrink/memory.max || fail "memory.max write"
wait $pid
expect_eq "alloc_anon exit status (128 + SIGKILL)" $? 137
expect_eq "memory.events oom_kill" "$(event shrink oom_kill)" 1
expect_le "memory.current" "$(cat $CG/shrink/memory.current)" $((8 << 20))
rmdir $CG/shrink || fail "rmdir"
