# SPDX-License-Identifier: GPL-2.0
# In-guest side of scripts/bench: every workload, in one boot, in three modes
# that alternate: root (no charging), builtin (child cgroup, module not
# loaded) and module (child cgroup, memcg_rs.ko loaded). The mode order
# rotates with each repetition so that no mode always runs first.
#
# Prints "workload NAME UNIT higher|lower" once per workload, then one
# "result WORKLOAD MODE VALUE" line per run ("error WORKLOAD MODE" when the
# program failed); scripts/bench takes the medians. Sizes come from the
# environment (see scripts/bench).
. scenario.sh

REPS=${BENCH_REPS:-5}
MIB=${BENCH_MIB:-16}
ROUNDS=${BENCH_ROUNDS:-5}
FILE_MIB=${BENCH_FILE_MIB:-48}
TURN=${BENCH_TURN:-8}
DRAIN_ITERS=${BENCH_DRAIN_ITERS:-200}
THREADS=$(nproc)
# The read set lives on /dev/ram0 (256 MiB).
[ $((THREADS * FILE_MIB)) -le 240 ] || FILE_MIB=$((240 / THREADS))
# near_limit reads four times its memory.max (at least 8 MiB) of cold files.
LIMIT_MIB=$((THREADS * FILE_MIB / 4))
[ $LIMIT_MIB -ge 8 ] || LIMIT_MIB=8

echo never >/sys/kernel/mm/transparent_hugepage/enabled
echo "info clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)" \
	"cpus=$THREADS reps=$REPS mib=$MIB rounds=$ROUNDS file_mib=$FILE_MIB turn=$TURN" \
	"limit_mib=$LIMIT_MIB drain_iters=$DRAIN_ITERS"

mkcg bench
for i in 0 1 2 3 4 5 6 7; do
	mkcg "bench$i"
done
deep=""
for i in 1 2 3 4 5 6; do
	deep="${deep:+$deep/}deep$i"
	mkcg "$deep"
	[ $i = 6 ] || echo +memory >"$CG/$deep/cgroup.subtree_control" || fail "subtree_control $deep"
done
mkcg bench_limit "${LIMIT_MIB}M"
mkcg bench_drain

# One file per thread on ext2 (4 KiB blocks, the filesystem no larger than the
# files need), written once from the root cgroup.
mke2fs -q -b 4096 -i 1048576 -m 0 /dev/ram0 $((THREADS * FILE_MIB * 1024 + 8192)) >/dev/null ||
	fail "mke2fs"
mkdir -p /mnt/ext2 /mnt/tmpfs
mount -t ext2 /dev/ram0 /mnt/ext2 || fail "mount ext2"
mount -t tmpfs -o huge=never tmpfs /mnt/tmpfs || fail "mount tmpfs"
pagecache_bench write /mnt/ext2 "$THREADS" "$FILE_MIB" >/dev/null || fail "writing the read set"

# run MODE CGROUP COMMAND...: COMMAND in CGROUP, or in the root cgroup in mode root.
run() {
	if [ "$1" = root ]; then
		shift 2
		"$@"
	else
		cg=$2
		shift 2
		run_in "$cg" "$@"
	fi
}

# "COUNT SECONDS" to COUNT per second.
per_second() {
	awk '$2 > 0 { printf "%.0f\n", $1 / $2 }'
}

# faults CGROUP: one fault loop per CPU, each a single-threaded process pinned
# to its CPU, all in CGROUP ("-": the root cgroup). Processes, not threads of
# one process: threads would serialize on their mm's mmap_lock and TLB
# shootdowns, which under -icount spin for whole vCPU slices (noise, not
# charging).
faults() {
	set -- "$1"
	for _ in $(seq 2 "$THREADS"); do
		set -- "$@" "$1"
	done
	group_fault_bench "$MIB" "$ROUNDS" 0 "$@" | per_second
}

# anon_fault: every CPU maps, touches and unmaps anonymous memory.
echo "workload anon_fault faults/s higher"
anon_fault() {
	if [ "$1" = root ]; then
		faults -
	else
		faults "$CG/bench"
	fi
}

# pagecache_read: one thread pinned to each CPU reads its own ext2 file, cold (the
# caches are dropped before every run).
echo "workload pagecache_read pages/s higher"
pagecache_read() {
	run "$1" bench pagecache_bench read /mnt/ext2 "$THREADS" "$FILE_MIB" | per_second
}

# tmpfs_write: one thread pinned to each CPU writes a new tmpfs file.
echo "workload tmpfs_write pages/s higher"
tmpfs_write() {
	run "$1" bench pagecache_bench write /mnt/tmpfs "$THREADS" "$FILE_MIB" | per_second
	rm -f /mnt/tmpfs/f.*
}

# many_cgroups: eight single-threaded processes in eight cgroups, pinned two
# or more to a CPU, yield to each other every TURN faults; the group's faults
# over its whole span.
echo "workload many_cgroups faults/s higher"
many_cgroups() {
	if [ "$1" = root ]; then
		set -- - - - - - - - -
	else
		set --
		for i in 0 1 2 3 4 5 6 7; do
			set -- "$@" "$CG/bench$i"
		done
	fi
	group_fault_bench "$MIB" "$ROUNDS" "$TURN" "$@" | per_second
}

# deep_hierarchy: anon_fault in a cgroup six levels below the root.
echo "workload deep_hierarchy faults/s higher"
deep_hierarchy() {
	if [ "$1" = root ]; then
		faults -
	else
		faults "$CG/$deep"
	fi
}

# near_limit: pagecache_read in a cgroup whose memory.max is a quarter of the
# files, so three quarters of the reads reclaim the cache the others left.
echo "workload near_limit pages/s higher"
near_limit() {
	run "$1" bench_limit pagecache_bench read /mnt/ext2 "$THREADS" "$FILE_MIB" | per_second
}

# drain_all: a memory.max write that drains stocks on every CPU; in mode
# root the same write with nothing to drain. The cgroup holds a cold ext2
# file's page cache, for the write to reclaim should a drain fall short.
echo "workload drain_all us lower"
drain_all() {
	nodrain=""
	[ "$1" = root ] && nodrain=nodrain
	# shellcheck disable=SC2086
	out=$(drain_bench "$CG/bench_drain" "$DRAIN_ITERS" /mnt/ext2/f.0 $nodrain) || return
	# shellcheck disable=SC2086
	set -- $out
	[ "$3" = 0 ] || echo "info drain_all $mode: $3 of $DRAIN_ITERS writes reclaimed" >&2
	echo "$1"
}

status=0
modes="root builtin module"
for _ in $(seq "$REPS"); do
	for mode in $modes; do
		[ "$mode" = module ] && { insmod /usr/local/bin/memcg_rs.ko || fail "insmod"; }
		for w in anon_fault pagecache_read tmpfs_write many_cgroups deep_hierarchy \
			near_limit drain_all; do
			# Every run starts from the same memory state: no page cache.
			drop_caches
			v=$($w "$mode")
			if [ -n "$v" ]; then
				echo "result $w $mode $v"
			else
				echo "error $w $mode"
				status=1
			fi
		done
		[ "$mode" = module ] && { rmmod memcg_rs || fail "rmmod"; }
	done
	modes="${modes#* } ${modes%% *}"
done
echo "info near_limit memory.events max=$(event bench_limit max) oom=$(event bench_limit oom)" \
	"oom_kill=$(event bench_limit oom_kill)"
exit $status
