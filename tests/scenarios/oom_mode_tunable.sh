# SPDX-License-Identifier: GPL-2.0
# modes: module
# oom_mode: deferred by default, sync on request, bad values rejected with
# -EINVAL and a log line while the old value stays; a second load is refused.
# In sync mode the OOM kill happens inside the charge, no context is recorded.
. scenario.sh

P=/sys/module/memcg_rs/parameters/oom_mode
expect_eq "default oom_mode" "$(cat $P)" deferred
echo sync >$P || fail "writing sync"
expect_eq "oom_mode after writing sync" "$(cat $P)" sync
for bad in bogus "" 1 "sync deferred"; do
	if echo "$bad" >$P 2>/dev/null; then fail "oom_mode accepted '$bad'"; fi
	expect_eq "oom_mode after writing '$bad'" "$(cat $P)" sync
done
dmesg | grep -q "memcg_rs: oom_mode: 'bogus' is not one of: deferred, sync" ||
	fail "no log line for the rejected value"

recorded=$(mstat oom_contexts_recorded)
sync=$(mstat oom_sync)
mkcg oom 32M
run_in oom alloc_anon 64
expect_eq "alloc_anon exit status in sync mode" $? 137
expect_eq "memory.events oom_kill" "$(event oom oom_kill)" 1
expect_eq "oom_contexts_recorded in sync mode" "$(mstat oom_contexts_recorded)" "$recorded"
expect_gt "oom_sync" "$(mstat oom_sync)" "$sync"
rmdir $CG/oom || fail "rmdir"

if insmod /lib/modules/memcg_rs.ko 2>/dev/null; then fail "a second insmod succeeded"; fi
echo "ok: a second insmod is refused"
rmmod memcg_rs || fail "rmmod"
if insmod /lib/modules/memcg_rs.ko oom_mode=bogus 2>/dev/null; then fail "insmod oom_mode=bogus succeeded"; fi
grep -q '^memcg_rs ' /proc/modules && fail "memcg_rs loaded with oom_mode=bogus"
echo "ok: insmod oom_mode=bogus is refused"
insmod /lib/modules/memcg_rs.ko oom_mode=sync || fail "insmod oom_mode=sync"
expect_eq "oom_mode from insmod" "$(cat $P)" sync
