# SPDX-License-Identifier: GPL-2.0
# In-guest side of scripts/bench: the same workloads, in one boot, in three
# modes that alternate: root (no charging), builtin (child cgroup, module not
# loaded) and module (child cgroup, memcg_rs.ko loaded). Prints one
# "result WORKLOAD MODE FAULTS_PER_S" line per run.
. scenario.sh

REPS=${BENCH_REPS:-3}
MIB=${BENCH_MIB:-16}
ROUNDS=${BENCH_ROUNDS:-20}
THREADS=$(nproc)
echo never >/sys/kernel/mm/transparent_hugepage/enabled

mkcg bench
for i in 0 1 2 3 4 5 6 7; do
	mkcg "bench$i"
done

# anon_fault: all CPUs fault in one cgroup.
anon_fault() {
	if [ "$1" = root ]; then
		fault_bench "$THREADS" "$MIB" "$ROUNDS"
	else
		run_in bench fault_bench "$THREADS" "$MIB" "$ROUNDS"
	fi | awk '{ printf "%.0f\n", $1 / $2 }'
}

# many_cgroups: eight single-threaded processes in eight cgroups share the
# CPUs; all their faults over the longest run.
many_cgroups() {
	for i in 0 1 2 3 4 5 6 7; do
		if [ "$1" = root ]; then
			fault_bench 1 "$MIB" "$ROUNDS" >/tmp/mc.$i &
		else
			run_in "bench$i" fault_bench 1 "$MIB" "$ROUNDS" >/tmp/mc.$i &
		fi
	done
	wait
	cat /tmp/mc.* | awk '{ f += $1; if ($2 > t) t = $2 } END { printf "%.0f\n", f / t }'
}

for rep in $(seq "$REPS"); do
	for mode in root builtin module; do
		[ $mode = module ] && { insmod /usr/local/bin/memcg_rs.ko || fail "insmod"; }
		for w in anon_fault many_cgroups; do
			echo "result $w $mode $($w $mode)"
		done
		[ $mode = module ] && { rmmod memcg_rs || fail "rmmod"; }
	done
done
