# SPDX-License-Identifier: GPL-2.0
# modes: module
# memcg_rs.ko unloads and loads 60 times while four cgroups fault anonymous
# memory and read files through the page cache (two against memory.max, one
# over memory.high), so pages charged on one charge path are uncharged on the
# other and stocks are handed over both ways. Once the workload is gone, the
# caches dropped and every stock given back, each cgroup's memory.current is
# exactly its baseline, every cgroup can be removed and no dying cgroup stays.
. scenario.sh

CYCLES=60
# The debug pass checks the same paths under lockdep and KASAN, in fewer cycles.
debug_pass && CYCLES=15
P=hotswap
KIDS="c0 c1 c2 c3"
NCPU=$(grep -c '^processor' /proc/cpuinfo)

module_loaded || fail "memcg_rs not loaded at start"

# Per-cgroup file sets larger than the limits, so reading them reclaims.
setup_ext2
for c in $KIDS; do
	mkdir /mnt/ext2/$c || fail "mkdir /mnt/ext2/$c"
	for f in 0 1 2 3 4 5; do
		dd if=/dev/zero of=/mnt/ext2/$c/f$f bs=1M count=4 2>/dev/null || fail "dd $c/f$f"
	done
done

# cur CGROUP: memory.current of $P/CGROUP ("" for $P itself).
cur() {
	cat $CG/$P${1:+/$1}/memory.current
}

# kmem CGROUP: memory.stat kernel of $P/CGROUP, in bytes.
kmem() {
	stat_of $P${1:+/$1} kernel
}

# memory.stat is flushed every 2 s, or sooner after many updates.
settle_stats() {
	sleep 3
}

# table TITLE: baseline and now, for $P and the children still there.
table() {
	echo "$1: memory.current (memory.stat kernel, slab) in bytes"
	for c in "" $KIDS; do
		[ -d $CG/$P${c:+/$c} ] || continue
		eval "b=\$base_${c:-p} bk=\$basek_${c:-p}"
		printf '  %-12s baseline %8d (%6d)  now %8d (%6d, %6d)\n' "$P${c:+/$c}" \
			"$b" "$bk" "$(cur $c)" "$(kmem $c)" "$(stat_of $P${c:+/$c} slab)"
	done
}

# check_back CGROUP: with every stock given back, $P/CGROUP is charged what
# it was at the baseline. Pages charged outside kmem (folios, stocks) match
# exactly. kmem may keep what the built-in object stock leaves once every
# object is freed: drain_obj_stock() parks the sub-page remainder of a stock
# in objcg->nr_charged_bytes, which only a CPU caching the objcg again takes
# back and only obj_cgroup_release() uncharges (see its comment). Between two
# such takes each CPU adds less than a page, so the whole pages left charged
# number at most NCPU - 1.
check_back() {
	name=$P${1:+/$1}
	eval "b=\$base_${1:-p} bk=\$basek_${1:-p}"
	now=$(cur $1)
	k=$(kmem $1)
	eval "final_${1:-p}=$now finalk_${1:-p}=$k"
	expect_eq "$name memory.current - kernel (folios and stocks) back to baseline" \
		$((now - k)) $((b - bk))
	expect_le "$name kmem above baseline (objcg byte remainders)" $((k - bk)) $(((NCPU - 1) * 4096))
}

# give_back_stocks: hand every stocked page back to the page counters and
# leave the module unloaded. Unloading releases the module's stocks
# synchronously; loading empties the built-in page and object stocks of every
# CPU (the object stocks' whole pages land in the module's stock).
give_back_stocks() {
	! module_loaded || rmmod memcg_rs || fail "rmmod (give back stocks)"
	insmod /lib/modules/memcg_rs.ko || fail "insmod (give back stocks)"
	rmmod memcg_rs || fail "rmmod (give back stocks)"
}

drop_caches
expect_eq "nr_dying_descendants at start" "$(cgstat nr_dying_descendants)" 0
# $P's baseline is taken before its children exist: their struct mem_cgroup
# is charged to $P and freed with them.
mkcg $P
echo +memory >$CG/$P/cgroup.subtree_control || fail "+memory in $P"
give_back_stocks
settle_stats
base_p=$(cur)
basek_p=$(kmem)
mkcg $P/c0 16M
mkcg $P/c1 20M
mkcg $P/c2
mkcg $P/c3 "" 12M
give_back_stocks
settle_stats
for c in $KIDS; do
	eval "base_$c=$(cur $c) basek_$c=$(kmem $c)"
done
table "baseline"
insmod /lib/modules/memcg_rs.ko || fail "insmod (start)"

pids=""
for c in $KIDS; do
	run_in $P/$c churn 600 4 1024 /mnt/ext2/$c &
	pids="$pids $!"
done
# Let every workload get going before the first swap.
sleep 2

t0=$(date +%s)
i=0
while [ $i -lt $CYCLES ]; do
	rmmod memcg_rs || fail "rmmod, cycle $i"
	module_loaded && fail "memcg_rs still listed after rmmod, cycle $i"
	sleep 0.1
	insmod /lib/modules/memcg_rs.ko || fail "insmod, cycle $i"
	sleep 0.1
	i=$((i + 1))
done
echo "swap: $i unload/load cycles in $(($(date +%s) - t0)) s"
for pid in $pids; do
	kill -0 $pid 2>/dev/null || fail "a workload ended before the $CYCLES cycles did"
done
expect_eq "unload/load cycles under load" $i $CYCLES

for c in $KIDS; do
	kill -USR1 $(cat $CG/$P/$c/cgroup.procs) || fail "signal the workload in $c"
done
for pid in $pids; do
	wait $pid || fail "workload $pid exited with $?"
done
for c in $KIDS; do
	expect_eq "$c oom_kill" "$(event $P/$c oom_kill)" 0
done
expect_gt "c0 memory.events max (reclaim at memory.max)" "$(event $P/c0 max)" 0
expect_gt "c1 memory.events max (reclaim at memory.max)" "$(event $P/c1 max)" 0
expect_gt "c3 memory.events high (reclaim over memory.high)" "$(event $P/c3 high)" 0

# What drop_caches leaves (it stops once a pass frees little) goes to each
# cgroup's own reclaim, which shrinks its dentries, inodes and shadow nodes.
drop_caches
for c in $KIDS; do
	echo 1G >$CG/$P/$c/memory.reclaim 2>/dev/null
done
# Slab objects freed through RCU (task structs, pids, inodes) uncharge late.
sleep 1
give_back_stocks
settle_stats
table "final, module unloaded"
for c in $KIDS; do
	check_back $c
done
insmod /lib/modules/memcg_rs.ko || fail "insmod (final)"
for c in $KIDS; do
	eval "expect_load_kept $P/$c \$final_$c \$finalk_$c"
done

for c in $KIDS; do
	rmdir $CG/$P/$c || fail "rmdir $P/$c"
done
wait_dying_zero "after removing $KIDS" 10
# The children's struct mem_cgroup is freed after an RCU grace period; their
# object cgroups, reparented to $P, uncharge their remainders when released.
sleep 1
give_back_stocks
settle_stats
table "$P after removing its children, module unloaded"
check_back ""
insmod /lib/modules/memcg_rs.ko || fail "insmod (end)"
rmdir $CG/$P || fail "rmdir $P"
wait_dying_zero "after removing $P" 10
