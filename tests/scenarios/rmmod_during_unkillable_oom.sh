# SPDX-License-Identifier: GPL-2.0
# modes: module
# A cgroup whose only task cannot be OOM-killed (oom_score_adj -1000) and
# faults past memory.max stays in the memcg OOM path: every charge reclaims
# nothing (no swap), finds no victim ("Out of memory and no killable
# processes") and fails, and the fault is retried. memcg_rs.ko unloads and
# loads five times while it does, once in each oom_mode: deferred (the
# module records an OOM context that the kernel hands back to it at the end
# of the fault, or drops once the module is gone) and sync (the OOM killer
# runs inside the charge). Each rmmod returns, successfully, within 30 s,
# and the task is still in the OOM path on either charge path. Then the task
# is let go (deferred: memory.max lifted, it finishes its allocation; sync:
# SIGKILL, which an unkillable task still obeys), its cgroup's
# memory.current returns to the baseline and the cgroup can be removed.
. scenario.sh

MOD=/lib/modules/memcg_rs.ko
PARAM=/sys/module/memcg_rs/parameters/oom_mode
NCPU=$(($(sed 's/.*-//' /sys/devices/system/cpu/possible) + 1))
CYCLES=5

module_loaded || fail "memcg_rs not loaded at start"

# (dmesg -c below clears the log: each no_underflow covers the time since.)

# give_back_stocks: every stocked page back to the page counters, module
# unloaded (see charge_ops_hot_swap.sh).
give_back_stocks() {
	! module_loaded || rmmod memcg_rs || fail "rmmod (give back stocks)"
	insmod $MOD || fail "insmod (give back stocks)"
	rmmod memcg_rs || fail "rmmod (give back stocks)"
	no_underflow "giving back the stocks"
}

# settle CGROUP: drain the per-CPU LRU add batches (drop_caches), give
# every stock back and flush CGROUP's stats, so that memory.current and
# memory.stat count what the cgroup really holds.
settle() {
	drop_caches
	give_back_stocks
	flush_stats $1
}

# oom_events_grow CGROUP WHAT: wait up to 30 s for memory.events oom to go
# up, proof that the task is (still) going through the memcg OOM path.
oom_events_grow() {
	field $CG/$1/memory.events oom
	before=$val
	n=0
	while field $CG/$1/memory.events oom && [ "$val" = "$before" ]; do
		[ $n -lt 300 ] || fail "$1: memory.events oom stuck at $before for 30 s ($2)"
		nap 0.1
		n=$((n + 1))
	done
	echo "ok: $1 memory.events oom $before -> $val ($2)"
}

# rmmod_bounded WHAT: rmmod must return, with success, within 30 s. It runs
# in the background: a module exit stuck waiting cannot be interrupted.
rmmod_bounded() {
	rmmod memcg_rs &
	rp=$!
	n=0
	while alive $rp; do
		[ $n -lt 300 ] || fail "rmmod still running after 30 s ($1)"
		nap 0.1
		n=$((n + 1))
	done
	wait $rp || fail "rmmod failed with status $? ($1)"
	module_loaded && fail "memcg_rs still listed after rmmod ($1)"
	no_underflow "rmmod ($1)"
	echo "ok: rmmod returned within $((n * 100)) ms ($1)"
}

stuck_run() { # MODE
	mode=$1
	cg=stuck_$mode
	mkcg $cg 16M
	settle $cg
	base=$(cat $CG/$cg/memory.current)
	basek=$(stat_of $cg kernel)
	echo "$cg baseline, module unloaded: memory.current $base (kernel $basek)"
	insmod $MOD oom_mode=$mode || fail "insmod oom_mode=$mode"
	expect_eq "oom_mode" "$(cat $PARAM)" $mode
	recorded=$(mstat oom_contexts_recorded)
	resolved=$(mstat oom_contexts_resolved)
	sync=$(mstat oom_sync)
	no_underflow "before the $mode run"
	# Each OOM with no victim dumps a report: the log buffer wraps, so look
	# for the line in a cleared log rather than count.
	dmesg -c >/dev/null

	# 32M in a 16M cgroup, then exit at once (hold 0 s).
	sh -c 'echo $$ >"$0/cgroup.procs" && echo -1000 >/proc/self/oom_score_adj &&
		exec alloc_anon 32 1 0' $CG/$cg &
	pid=$!
	oom_events_grow $cg "$mode, module loaded"
	expect_eq "$cg oom_score_adj of the task" "$(cat /proc/$pid/oom_score_adj)" -1000
	if [ $mode = deferred ]; then
		expect_gt "memcg_rs oom_contexts_recorded" "$(mstat oom_contexts_recorded)" "$recorded"
		expect_gt "memcg_rs oom_contexts_resolved" "$(mstat oom_contexts_resolved)" "$resolved"
	else
		expect_gt "memcg_rs oom_sync" "$(mstat oom_sync)" "$sync"
	fi
	dmesg | grep -q 'Out of memory and no killable processes' ||
		fail "$cg: no 'Out of memory and no killable processes' in the kernel log"
	echo "ok: the OOM killer finds nothing to kill in $cg"

	i=0
	while [ $i -lt $CYCLES ]; do
		rmmod_bounded "$mode, cycle $i"
		oom_events_grow $cg "$mode, cycle $i, built-in charge path"
		insmod $MOD oom_mode=$mode || fail "insmod oom_mode=$mode, cycle $i"
		oom_events_grow $cg "$mode, cycle $i, memcg-rs charge path"
		i=$((i + 1))
	done
	expect_eq "$cg unload/load cycles in OOM" $i $CYCLES
	alive $pid || fail "$cg: the unkillable task is gone before it was let go"
	expect_le "$cg memory.current while in OOM" "$(cat $CG/$cg/memory.current)" $((16 << 20))

	if [ $mode = deferred ]; then
		echo max >$CG/$cg/memory.max || fail "lift memory.max of $cg"
		wait $pid
		expect_eq "alloc_anon exit status once memory.max is lifted" $? 0
	else
		kill -KILL $pid || fail "SIGKILL the task in $cg"
		wait $pid
		expect_eq "alloc_anon exit status after SIGKILL" $? 137
	fi
	expect_eq "$cg memory.events oom_kill (nothing was killable)" "$(event $cg oom_kill)" 0
	echo "$cg memory.events: oom $(event $cg oom), max $(event $cg max)"

	# The task's memory is gone: back to the baseline once the stocks are,
	# and once the per-CPU LRU add batches, which hold a reference on the
	# last folios the task faulted (and so keep them charged), are drained:
	# drop_caches drains them on every CPU. kmem may keep the object stocks'
	# byte remainders (see charge_ops_hot_swap.sh check_back): at most
	# NCPU - 1 pages. Kernel objects of the dead task that RCU frees later
	# can still move a page from kmem into a stock after the stocks were given
	# back; a page lost for good stays through every try.
	tries=1
	while :; do
		settle $cg
		now=$(cat $CG/$cg/memory.current)
		k=$(stat_of $cg kernel)
		[ $((now - k)) != $((base - basek)) ] && [ $tries -lt 5 ] || break
		echo "$cg not settled after try $tries: memory.current $now (kernel $k)"
		tries=$((tries + 1))
		sleep 1
	done
	echo "$cg after the task, module unloaded: memory.current $now (kernel $k), try $tries"
	expect_eq "$cg memory.current - kernel back to baseline" $((now - k)) $((base - basek))
	expect_le "$cg kmem above baseline (objcg byte remainders)" $((k - basek)) $(((NCPU - 1) * 4096))
	insmod $MOD || fail "insmod (end of $mode)"
	expect_load_kept $cg $now $k
	rmdir $CG/$cg || fail "rmdir $cg"
}

stuck_run deferred
stuck_run sync

wait_dying_zero "after removing the cgroups" 30
expect_eq "oom_mode of the final load" "$(cat $PARAM)" deferred
