# SPDX-License-Identifier: GPL-2.0
# modes: module
# oom_mode: deferred by default, sync on request, bad values rejected with
# -EINVAL and a log line naming them while the old value stays, at runtime
# and at insmod; a second load is refused. In sync mode the OOM kill happens
# inside the charge, no context is recorded. bench_iters (1..10000000) is
# checked the same way. Those two are the module's tunables: its one other
# file, debugfs memcg_rs/stats, is read-only.
. scenario.sh

P=/sys/module/memcg_rs/parameters/oom_mode
expect_eq "default oom_mode" "$(cat $P)" deferred
echo sync >$P || fail "writing sync"
expect_eq "oom_mode after writing sync" "$(cat $P)" sync
set -- bogus "" 1 "sync deferred" " sync" SYNC deferred2
for bad; do
	if err=$( { echo "$bad" >$P; } 2>&1); then fail "oom_mode accepted '$bad'"; fi
	case "$err" in
	*"Invalid argument"*) ;;
	*) fail "writing '$bad' to oom_mode: expected EINVAL, got: $err" ;;
	esac
	read -r v <$P
	expect_eq "oom_mode after writing '$bad' (EINVAL)" "$v" sync
done
log=$(dmesg)
for bad; do
	case "$log" in
	*"memcg_rs: oom_mode: '$bad' is not one of: deferred, sync"*) ;;
	*) fail "no log line for the rejected value '$bad'" ;;
	esac
done
echo "ok: a log line for each rejected oom_mode"

# bench_iters: charges per measurement of the KUnit micro-benchmark.
B=/sys/module/memcg_rs/parameters/bench_iters
expect_eq "default bench_iters" "$(cat $B)" 2000
echo 5000 >$B || fail "writing 5000 to bench_iters"
expect_eq "bench_iters after writing 5000" "$(cat $B)" 5000
set -- abc "" 0 -1 10000001 99999999999 "12 34" 1.5
for bad; do
	if err=$( { echo "$bad" >$B; } 2>&1); then fail "bench_iters accepted '$bad'"; fi
	case "$err" in
	*"Invalid argument"*) ;;
	*) fail "writing '$bad' to bench_iters: expected EINVAL, got: $err" ;;
	esac
	read -r v <$B
	expect_eq "bench_iters after writing '$bad' (EINVAL)" "$v" 5000
done
log=$(dmesg)
for bad; do
	case "$log" in
	*"memcg_rs: bench_iters: '$bad' is not a number from 1 to 10000000"*) ;;
	*) fail "no log line for the rejected bench_iters '$bad'" ;;
	esac
done
echo "ok: a log line for each rejected bench_iters"

# No other tunable: two parameters, and debugfs stats, which takes no write.
expect_eq "module parameters" "$(ls /sys/module/memcg_rs/parameters | tr '\n' ' ')" "bench_iters oom_mode "
expect_eq "debugfs files" "$(ls /sys/kernel/debug/memcg_rs)" stats
S=/sys/kernel/debug/memcg_rs/stats
names=$(cut -d' ' -f1 $S | tr '\n' ' ')
sync=$(mstat oom_sync)
if err=$( { echo "oom_sync 0" >$S; } 2>&1); then fail "debugfs memcg_rs/stats accepted a write"; fi
echo "ok: a write to debugfs memcg_rs/stats fails: $err"
expect_eq "debugfs memcg_rs/stats entries after the write" "$(cut -d' ' -f1 $S | tr '\n' ' ')" "$names"
expect_le "oom_sync before the write (counters only grow)" "$sync" "$(mstat oom_sync)"

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
logged=$(dmesg | grep -cF "memcg_rs: oom_mode: 'bogus' is not one of: deferred, sync")
if err=$(insmod /lib/modules/memcg_rs.ko oom_mode=bogus 2>&1); then fail "insmod oom_mode=bogus succeeded"; fi
case "$err" in
*"Invalid argument"*) ;;
*) fail "insmod oom_mode=bogus: expected EINVAL, got: $err" ;;
esac
module_loaded && fail "memcg_rs loaded with oom_mode=bogus"
expect_gt "log lines for 'bogus' after insmod oom_mode=bogus" \
	"$(dmesg | grep -cF "memcg_rs: oom_mode: 'bogus' is not one of: deferred, sync")" "$logged"
# The module loader's own line quotes with a backtick: `bogus' invalid ...
dmesg | grep -qF "bogus' invalid for parameter" ||
	fail "no module loader log line for insmod oom_mode=bogus"
echo "ok: insmod oom_mode=bogus is refused with EINVAL"
insmod /lib/modules/memcg_rs.ko oom_mode=sync || fail "insmod oom_mode=sync"
expect_eq "oom_mode from insmod" "$(cat $P)" sync
