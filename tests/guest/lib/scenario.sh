# SPDX-License-Identifier: GPL-2.0
# Helpers for in-guest scenarios; source with `. scenario.sh`.

CG=/sys/fs/cgroup

fail() {
	echo "FAIL: $*"
	exit 1
}

# expect_eq WHAT ACTUAL EXPECTED
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
	echo "ok: $1 = $2"
}

# expect_le WHAT ACTUAL LIMIT
expect_le() {
	[ "$2" -le "$3" ] || fail "$1: got $2, expected at most $3"
	echo "ok: $1 = $2 (<= $3)"
}

# mkcg NAME [memory.max] [memory.high]: a fresh child cgroup.
mkcg() {
	mkdir "$CG/$1" || fail "mkdir $CG/$1"
	[ -z "$2" ] || echo "$2" >"$CG/$1/memory.max" || fail "memory.max=$2 on $1"
	[ -z "$3" ] || echo "$3" >"$CG/$1/memory.high" || fail "memory.high=$3 on $1"
}

# The helpers below read files with the shell's own read and sleep with
# nap: a process (fork and exec) costs ~60 ms on the debug kernel and ~9 ms
# on the normal one, a read a few ms, and scenarios poll. A helper that
# sets val costs no process at all; one used as $(helper) costs a fork.

# field FILE KEY: sets val to the value of FILE's "KEY VALUE" line (flat
# keyed files: memory.events, memory.stat, cgroup.stat, ...), empty if none.
field() {
	val=""
	while read -r k v; do
		[ "$k" != "$2" ] || {
			val=$v
			break
		}
	done <"$1"
}

# event CGROUP NAME: a memory.events counter.
event() {
	field "$CG/$1/memory.events" "$2"
	echo "$val"
}

# stat CGROUP NAME: a memory.stat entry.
stat_of() {
	field "$CG/$1/memory.stat" "$2"
	echo "$val"
}

# task_state PID: sets val to PID's state letter (R, S, D, Z ...), empty
# once PID is gone.
task_state() {
	val=""
	while read -r k v rest; do
		[ "$k" != State: ] || {
			val=$v
			break
		}
	done 2>/dev/null </proc/"$1"/status
}

# alive PID: running, not a zombie (kill -0 succeeds on a zombie).
alive() {
	task_state "$1"
	[ -n "$val" ] && [ "$val" != Z ]
}

# nap SECONDS: sleep (fractions allowed) without a process: read times out
# on fd 8, a FIFO nobody writes to (sleep when that could not be set up).
nap() {
	if [ "$nap_fd" = 1 ]; then
		read -r -t "$1" nap_ <&8
	else
		sleep "$1"
	fi
	return 0
}
nap_fd=0
nap_fifo=/tmp/.nap.$$
if mkfifo "$nap_fifo" 2>/dev/null && exec 8<>"$nap_fifo"; then
	nap_fd=1
fi
rm -f "$nap_fifo"

# run_in CGROUP COMMAND...: run COMMAND inside CGROUP, return its status.
run_in() {
	cg=$1
	shift
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG/$cg" "$@"
}

# setup_ext2 [KIB]: an ext2 filesystem of KIB KiB (default: the whole
# 256 MiB ramdisk, whose inode tables take 4 s to write on the debug
# kernel) on the first ramdisk, mounted on /mnt/ext2.
setup_ext2() {
	# shellcheck disable=SC2086
	mke2fs -q /dev/ram0 ${1:-} >/dev/null || fail "mke2fs"
	mkdir -p /mnt/ext2
	mount -t ext2 /dev/ram0 /mnt/ext2 || fail "mount ext2"
}

drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

# cgstat NAME: an entry of the root's cgroup.stat.
cgstat() {
	field $CG/cgroup.stat "$1"
	echo "$val"
}

# no_dying_within SECONDS: css release is asynchronous; poll every 0.1 s, for
# up to SECONDS, until no cgroup and no memory css is dying. False if some
# still are; n counts the polls.
no_dying_within() {
	n=0
	while :; do
		field $CG/cgroup.stat nr_dying_descendants
		dying=$val
		field $CG/cgroup.stat nr_dying_subsys_memory
		[ "$dying$val" != 00 ] || return 0
		[ $n -lt $(($1 * 10)) ] || return 1
		nap 0.1
		n=$((n + 1))
	done
}

# wait_dying_zero WHAT SECONDS: no_dying_within SECONDS, then check both.
wait_dying_zero() {
	no_dying_within "$2"
	expect_eq "nr_dying_descendants $1 (after $((n * 100)) ms)" "$(cgstat nr_dying_descendants)" 0
	expect_eq "nr_dying_subsys_memory $1" "$(cgstat nr_dying_subsys_memory)" 0
}

# no_underflow WHEN: fail at once if a page counter went below zero (more
# uncharged than charged): the WARN_ONCE "page_counter underflow" in the
# kernel log. scripts/vm would fail the run for it too, but only at the end.
no_underflow() {
	case "$(dmesg)" in
	*"page_counter underflow"*)
		fail "$1: the kernel reported: $(dmesg | grep -m 1 'page_counter underflow')"
		;;
	esac
}

# Whether memcg_rs.ko is loaded (scenarios run with and without it).
module_loaded() {
	while read -r m rest; do
		[ "$m" != memcg_rs ] || return 0
	done </proc/modules
	return 1
}

# flush_stats CGROUP: reading cpu.stat of a non-root cgroup flushes the rstat
# tree below it (cgroup_base_stat_cputime_show -> cgroup_rstat_flush_hold),
# memcg statistics included (mem_cgroup_css_rstat_flush). memory.stat alone
# only flushes past MEMCG_CHARGE_BATCH * nr_cpus pending updates, or every 2 s.
flush_stats() {
	read -r flush_ <"$CG/$1/cpu.stat"
}

# expect_load_kept CGROUP CURRENT KERNEL: right after an insmod, CGROUP
# holds what it held before (memory.current CURRENT, memory.stat kernel
# KERNEL), but for kmem. Loading drains the built-in object stocks, which
# may hold bytes of kmem that objects freed (through RCU) since the stocks
# were given back: obj_cgroup_uncharge_pages() takes their whole pages off
# the kernel stat and hands them to refill_stock(), so each is either
# uncharged or kept in a per-CPU stock, whichever path (and drain) takes
# it. So: loading charges nothing (memory.current does not rise), and no
# folio or socket charge goes (memory.current - kernel does not fall; it
# rises by exactly the freed kmem pages a stock keeps).
expect_load_kept() {
	flush_stats $1
	read -r after <"$CG/$1/memory.current"
	field "$CG/$1/memory.stat" kernel
	expect_le "$1 memory.current after the load" $after $2
	expect_le "$1 memory.current - kernel before the load (not below after it)" $(($2 - $3)) \
		$((after - val))
}

# mstat NAME: a counter of /sys/kernel/debug/memcg_rs/stats.
mstat() {
	field /sys/kernel/debug/memcg_rs/stats "$1"
	[ -n "$val" ] || fail "no '$1' in /sys/kernel/debug/memcg_rs/stats"
	echo "$val"
}

# expect_gt WHAT ACTUAL FLOOR
expect_gt() {
	[ "$2" -gt "$3" ] || fail "$1: got $2, expected more than $3"
	echo "ok: $1 = $2 (> $3)"
}

# Whether this boot is the debug kernel's pass of make test (lockdep, KASAN:
# several times slower), where load/unload loops run fewer cycles.
debug_pass() {
	read -r cmdline_ </proc/cmdline
	case " $cmdline_ " in
	*" memcg_rs_test_scale=debug "*) return 0 ;;
	esac
	return 1
}
