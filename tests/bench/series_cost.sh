# SPDX-License-Identifier: GPL-2.0
# In-guest side of scripts/series-cost: anonymous fault throughput in the root
# cgroup and in a child cgroup, alternating, on whatever kernel booted (no
# module). Prints "result anon_fault root|child FAULTS_PER_S" per run.
. scenario.sh

REPS=${BENCH_REPS:-3}
MIB=${BENCH_MIB:-16}
ROUNDS=${BENCH_ROUNDS:-20}
THREADS=$(nproc)
echo never >/sys/kernel/mm/transparent_hugepage/enabled
mkcg bench

for rep in $(seq "$REPS"); do
	for where in root child; do
		if [ $where = root ]; then
			fault_bench "$THREADS" "$MIB" "$ROUNDS"
		else
			run_in bench fault_bench "$THREADS" "$MIB" "$ROUNDS"
		fi | awk -v w=$where '{ printf "result anon_fault %s %.0f\n", w, $1 / $2 }'
	done
done
