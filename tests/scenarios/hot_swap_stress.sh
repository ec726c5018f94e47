# SPDX-License-Identifier: GPL-2.0
# modes: module
# long
# memcg_rs.ko unloads and loads 100 times while eight cgroups, three levels
# deep, keep every vCPU busy with anonymous faults, page cache on ext2, tmpfs
# writes, fork and exit, and TCP over 127.0.0.1 and ::1; meanwhile their
# memory.max values are rewritten and CPUs 1..N go offline and online again.
# Four times during the run (twice on each charge path) each cgroup's
# memory.current matches the sum of its memory.stat parts to within what the
# per-CPU stocks may hold (on the built-in path the stocks are emptied
# first, so that no stock hides a charge gone missing). Afterwards every
# cgroup's memory.current is back to its baseline, every cgroup can be
# removed and no dying cgroup stays. Reclaim at memory.max and over
# memory.high runs through the swaps, so pages charged on one path are
# reclaimed and uncharged on the other.
. scenario.sh

CYCLES=100
# The debug pass checks the same paths under lockdep and KASAN, in fewer cycles.
debug_pass && CYCLES=20
# Samples at the end of each quarter: the 2nd and 4th right after an unload
# (built-in path), the 1st and 3rd after a load (memcg-rs).
QUARTER=$((CYCLES / 4))
P=stress
# $P/a and $P/b only pass the memory controller down: cgroup v2 lets no
# process live in a cgroup that enables a domain controller for its children.
MIDS="a b"
LEAVES="a/a1 a/a2 a/a3 a/a4 b/b1 b/b2 b/b3 b/b4"
# Possible CPUs: a stock lives on every one of them, online or not.
NCPU=$(($(sed 's/.*-//' /sys/devices/system/cpu/possible) + 1))
NR_SLOTS=8     # memcgs one CPU's memcg-rs stock caches (src/stock.rs NR_SLOTS)
BATCH=64       # pages one memcg keeps in one CPU's stock (MEMCG_CHARGE_BATCH)
PAGE=4096
# Each memory.max rewrite takes the next of these, round robin. None is below
# what its cgroup holds unreclaimably (anonymous, tmpfs and socket memory;
# there is no swap), so rewrites reclaim page cache but never OOM-kill.
MAXES="a/a1=12M a/a3=16M a/a4=32M b/b1=24M b/b2=max b/b3=32M b/b4=12M a=128M b=128M
a/a1=20M a/a3=32M a/a4=64M b/b1=48M b/b2=32M b/b3=64M b/b4=24M a=max b=max
a/a1=16M a/a3=24M a/a4=48M b/b1=32M b/b2=24M b/b3=48M b/b4=16M a=160M b=160M"
NR_MAXES=$(echo $MAXES | wc -w)
# nth N WORD...: sets val to the Nth WORD.
nth() {
	shift "$1"
	val=$1
}

module_loaded || fail "memcg_rs not loaded at start"
online() {
	grep -c '^processor' /proc/cpuinfo
}
[ "$(online)" = "$NCPU" ] || fail "expected all $NCPU possible CPUs online, got $(online)"
t_start=$(date +%s)

# --- Files the workloads use, made here in the root cgroup so that their
# inodes, dentries and ext2 metadata are not charged to the workloads.
# 64 MiB: the blocks written are b4's 12 MiB and a2's few bytes.
setup_ext2 65536
# The files a1 and b2 only read are sparse: reading a hole fills the page
# cache (and charges the reader) as reading a block does, and making them
# costs no writes (seconds on the debug kernel).
for c in a1 b2; do
	mkdir /mnt/ext2/$c || fail "mkdir /mnt/ext2/$c"
	for f in 0 1 2 3 4; do
		truncate -s 4M /mnt/ext2/$c/f$f || fail "truncate $c/f$f"
	done
done
mkdir /mnt/ext2/a2 /mnt/ext2/b4 || fail "mkdir /mnt/ext2/a2 b4"
echo small >/mnt/ext2/a2/f0 || fail "write a2/f0"
for f in 0 1; do
	dd if=/dev/zero of=/mnt/ext2/b4/f$f bs=1M count=6 2>/dev/null || fail "dd b4/f$f"
done
mkdir -p /mnt/tmpfs
mount -t tmpfs -o size=128M tmpfs /mnt/tmpfs || fail "mount tmpfs"
mkdir /mnt/tmpfs/a3 || fail "mkdir /mnt/tmpfs/a3"
# writer.sh DIR MIB KEEP: write MIB MiB to DIR/f0 and DIR/f1 in turn until
# SIGUSR1. KEEP=1 overwrites files made in advance in place (no new blocks,
# so no ext2 metadata charged to the writer); KEEP=0 removes each file once
# written (tmpfs). The trap runs once the dd in progress has finished.
cat >/tmp/writer.sh <<'EOF'
n=0
trap 'echo "writer $1: $n files of $2 MiB written"; exit 0' USR1
while :; do
	f=$1/f$((n % 2))
	if [ "$3" = 1 ]; then
		dd if=/dev/zero of=$f bs=64k count=$(($2 * 16)) conv=notrunc 2>/dev/null
	else
		dd if=/dev/zero of=$f bs=64k count=$(($2 * 16)) 2>/dev/null && rm $f
	fi || { echo "writer $1: write $n failed"; exit 1; }
	n=$((n + 1))
done
EOF

# --- Helpers, cgroup names relative to $P ("" is $P itself).
path() {
	echo $CG/$P${1:+/$1}
}

# cur, kmem: memory.current and memory.stat kernel of $P itself.
cur() {
	cat $CG/$P/memory.current
}

kmem() {
	stat_of $P kernel
}

# The bookkeeping below forks and execs as little as it can: a process
# costs ~60 ms on the debug kernel, where the tables and checks of eleven
# cgroups took a third of the scenario.

# var NAME CGROUP: sets vn to a shell variable name for CGROUP's NAME figure.
var() {
	vn=${2:-top}
	vn=$1_${vn//\//_}
}

# memcgs CGROUP: sets nm to the number of memcgs in CGROUP's subtree, itself
# included.
memcgs() {
	nm=0
	for e in "" $MIDS $LEAVES; do
		case "$e" in
		"$1" | "$1"/*) ;;
		*) [ -z "$1" ] || continue ;;
		esac
		[ ! -d $CG/$P${e:+/$e} ] || nm=$((nm + 1))
	done
}

# figures: "CGROUP current anon file kernel sock" for each cgroup of
# "" $MIDS $LEAVES that exists ("-" for $P itself), in that order, from
# memory.current and memory.stat, read by one awk.
figures() {
	set --
	for c in "" $MIDS $LEAVES; do
		[ ! -d $CG/$P${c:+/$c} ] || set -- "$@" $CG/$P${c:+/$c}/memory.current $CG/$P${c:+/$c}/memory.stat
	done
	awk -v top=$CG/$P '
		FNR == 1 {
			d = FILENAME
			sub("/memory[.](current|stat)$", "", d)
			c = d == top ? "-" : substr(d, length(top) + 2)
			if (!(c in seen)) {
				seen[c] = 1
				order[++n] = c
			}
		}
		FILENAME ~ /memory[.]current$/ { cur[c] = $1 }
		FILENAME ~ /memory[.]stat$/ && $1 ~ /^(anon|file|kernel|sock)$/ { st[c, $1] = $2 }
		END {
			for (i = 1; i <= n; i++) {
				c = order[i]
				print c, cur[c], st[c, "anon"] + 0, st[c, "file"] + 0, st[c, "kernel"] + 0, st[c, "sock"] + 0
			}
		}' "$@"
}

# give_back_stocks: hand every stocked page back to the page counters and
# leave the module unloaded. Unloading releases the module's stocks
# synchronously; loading empties the built-in page and object stocks of every
# CPU (the object stocks' whole pages land in the module's stock).
give_back_stocks() {
	! module_loaded || rmmod memcg_rs || fail "rmmod (give back stocks)"
	insmod /lib/modules/memcg_rs.ko || fail "insmod (give back stocks)"
	rmmod memcg_rs || fail "rmmod (give back stocks)"
	no_underflow "giving back the stocks"
}

# sample LABEL: memory.current against memory.stat, every cgroup, while the
# workloads are frozen in place (cgroup.freeze stops them where they return
# to user space, so no charge is half done) and the stats are flushed.
#
# On cgroup v2 (memcg_stat_format, mm/memcontrol.c) the entries that make up
# memory.current are anon (NR_ANON_MAPPED), file (NR_FILE_PAGES, shmem and
# swap cache included), kernel (MEMCG_KMEM: every page charged through an
# objcg or __memcg_kmem_charge_page, which covers slab, kernel_stack,
# pagetables, percpu and vmalloc, each also listed on its own) and sock
# (MEMCG_SOCK). zswap is not configured, hugetlb is not charged here. Each
# of these is updated after the page is charged and before it is uncharged,
# so memory.current is never below their sum.
#
# What memory.current holds on top is what the per-CPU stocks keep: pages
# charged and not yet used. The object stock's pages are in kernel already
# (obj_cgroup_charge_pages accounts MEMCG_KMEM for the whole page, and
# drain_obj_stock leaves sub-page remainders charged and accounted), so only
# the page stocks count. The built-in stock caches one memcg per CPU and
# never keeps more than MEMCG_CHARGE_BATCH pages (__refill_stock drains
# above that): BATCH pages per CPU for any cgroup. memcg-rs caches up to
# NR_SLOTS memcgs per CPU, each capped at BATCH pages (Stock::refill), and a
# cgroup's memory.current counts the stocks of every memcg in its subtree:
# min(NR_SLOTS, memcgs in the subtree) * BATCH pages per CPU.
#
# Samples on the built-in path first empty every stock (give_back_stocks):
# what a stock would hold no longer hides a charge that went missing, so the
# lower bound is exact there, and only what socket timers put back into a
# stock while the figures settle is above it.
#
# Frozen tasks do not stop their sockets: TCP timers still deliver, ack and
# reclaim forward-allocated memory (sk_mem_reclaim -> uncharge_skmem) for a
# few hundred ms. Reading memory.current and memory.stat is not atomic, so
# the figures are taken once the whole tree is quiescent: two snapshots in a
# row, each after a flush, alike to the byte. A wrong count stays wrong in
# a quiescent tree; only figures that are moving are waited out.
nr_samples=0
# Sample mismatches, reported at the end: the checks after the storm show
# whether a mismatch was a lasting miscount.
bad=""

# snapshot: "memory.current anon file kernel sock" per cgroup, one a line.
snapshot() {
	flush_stats $P
	figures
}

sample() { # LABEL
	label=$1
	echo 1 >$CG/$P/cgroup.freeze || fail "freeze $P"
	n=0
	while field $CG/$P/cgroup.events frozen; [ "$val" != 1 ]; do
		[ $n -lt 300 ] || fail "$P not frozen after 30 s ($label)"
		nap 0.1
		n=$((n + 1))
	done
	module_loaded || give_back_stocks
	snap=$(snapshot)
	tries=1
	while :; do
		nap 0.5
		prev=$snap
		snap=$(snapshot)
		[ "$snap" != "$prev" ] || break
		[ $tries -lt 20 ] || fail "sample $label: figures still moving after $tries snapshots"
		tries=$((tries + 1))
	done
	if module_loaded; then path_name="memcg-rs"; else path_name="built-in, stocks emptied"; fi
	echo "sample $label ($path_name charge path; frozen after $((n * 100)) ms," \
		"quiescent after $tries snapshots): bytes"
	printf '  %-8s %10s %10s %10s %10s %9s %9s %9s %9s\n' cgroup current "stat sum" \
		anon file kernel sock "cur - sum" tolerance
	loaded=0
	! module_loaded || loaded=1
	k=0
	while read -r c now anon file kernel sock; do
		[ "$c" != - ] || c=""
		k=$((k + 1))
		set -- "$anon" "$file" "$kernel" "$sock"
		sum=$(($1 + $2 + $3 + $4))
		slots=1
		if [ $loaded = 1 ]; then
			memcgs "$c"
			slots=$nm
			[ $slots -le $NR_SLOTS ] || slots=$NR_SLOTS
		fi
		tol=$((NCPU * slots * BATCH * PAGE))
		diff=$((now - sum))
		printf '  %-8s %10d %10d %10d %10d %9d %9d %9d %9d\n' "${c:-$P}" "$now" "$sum" "$@" "$diff" "$tol"
		if [ $diff -lt 0 ] || [ $diff -gt $tol ]; then
			bad="$bad
  sample $label: $P/$c memory.current $now is not within [0, $tol] above the memory.stat sum $sum"
			echo "MISMATCH: $P/$c, memory.current - stat sum = $diff; again after 2 s, still frozen:"
			sleep 2
			snapshot | sed -n ${k}p
		fi
	done <<EOF
$snap
EOF
	echo 0 >$CG/$P/cgroup.freeze || fail "thaw $P"
	no_underflow "sample $label"
	nr_samples=$((nr_samples + 1))
}

# table TITLE: baseline and now, for every cgroup still there. Leaves the
# figures in fig (see figures).
table() {
	echo "$1: memory.current (memory.stat kernel), now also anon file sock, in bytes"
	fig=$(figures)
	while read -r c now anon file kernel sock; do
		[ "$c" != - ] || c=""
		var base "$c"
		eval "b=\$$vn"
		var basek "$c"
		eval "bk=\$$vn"
		printf '  %-8s baseline %7d (%6d)  now %7d (%6d) %6d %6d %6d\n' "${c:-$P}" \
			"$b" "$bk" "$now" "$kernel" "$anon" "$file" "$sock"
	done <<EOF
$fig
EOF
}

# check_back: with every stock given back, each cgroup is charged what it
# was at the baseline. Pages charged outside kmem (folios, sockets,
# stocks) match exactly. kmem may keep what the built-in object stock leaves
# once every object is freed: drain_obj_stock() parks the sub-page remainder
# of a stock in objcg->nr_charged_bytes, which only a CPU caching the objcg
# again takes back and only obj_cgroup_release() uncharges. Between two such
# takes each CPU adds less than a page, so the whole pages left charged
# number at most NCPU - 1 per objcg, one objcg per memcg of the subtree.
# Checks every cgroup of the figures in fig (see table) and keeps each
# one's memory.current as its final figure.
check_back() {
	while read -r c now anon file k sock; do
		[ "$c" != - ] || c=""
		name=$P${c:+/$c}
		var base "$c"
		eval "b=\$$vn"
		var basek "$c"
		eval "bk=\$$vn"
		var final "$c"
		eval "$vn=$now"
		memcgs "$c"
		expect_eq "$name memory.current - kernel (folios, sockets and stocks) back to baseline" \
			$((now - k)) $((b - bk))
		expect_le "$name kmem above baseline (objcg byte remainders)" $((k - bk)) \
			$((nm * (NCPU - 1) * PAGE))
	done <<EOF
$fig
EOF
}

# --- Cgroups and baselines, taken on the built-in path with no stock left.
drop_caches
expect_eq "nr_dying_descendants at start" "$(cgstat nr_dying_descendants)" 0
# $P's empty baseline is taken before its children exist: their struct
# mem_cgroup is charged to their parent and freed with them.
mkcg $P 768M
echo +memory >$CG/$P/cgroup.subtree_control || fail "+memory in $P"
give_back_stocks
flush_stats $P
empty_top=$(cur)
emptyk_top=$(kmem)
mkcg $P/a 160M 128M
mkcg $P/b 160M
for c in $MIDS; do
	echo +memory >$CG/$P/$c/cgroup.subtree_control || fail "+memory in $P/$c"
done
mkcg $P/a/a1 16M           # churn: anonymous faults and ext2 reads over max
mkcg $P/a/a2 "" 12M        # churn: anonymous faults under memory.high
mkcg $P/a/a3 24M 20M       # tmpfs writes
mkcg $P/a/a4 48M 40M       # sock_churn over 127.0.0.1 and ::1
mkcg $P/b/b1 32M           # fork_churn
mkcg $P/b/b2 "" 10M        # churn: ext2 reads over memory.high
mkcg $P/b/b3 48M           # sock_churn over 127.0.0.1 and ::1
mkcg $P/b/b4 16M 12M       # ext2 writes over memory.high
give_back_stocks
flush_stats $P
eval "$(figures | awk '{ c = $1 == "-" ? "top" : $1; gsub("/", "_", c)
	print "base_" c "=" $2 "; basek_" c "=" $5 }')"
table "baseline, module unloaded"
insmod /lib/modules/memcg_rs.ko || fail "insmod (start)"

# --- Workloads: they run until SIGUSR1 (600 s is only a backstop).
# Started as a plain background command, which execs the workload, so that
# $! is the workload itself: SIGUSR1 goes to it and not to its children.
# They run at nice 10: every vCPU stays busy, and the storm itself (this
# shell, rmmod, insmod and the kworkers they wait for) still gets its turn.
pids=""
start() { # CGROUP COMMAND...
	c=$1
	shift
	sh -c 'echo $$ >"$0/cgroup.procs" && renice -n 10 -p $$ >/dev/null && exec "$@"' \
		"$(path $c)" "$@" &
	pids="$pids $!"
	var cg $!
	eval "$vn=$c"
}

# ended_early WHEN: fail if a workload is gone, naming it and its status.
ended_early() {
	for pid in $pids; do
		alive $pid && continue
		wait $pid
		st=$?
		var cg $pid
		eval "c=\$$vn"
		fail "the workload in $P/$c (pid $pid) ended $1, exit status $st"
	done
}
start a/a1 churn 600 2 1024 /mnt/ext2/a1
start a/a2 churn 600 2 2048 /mnt/ext2/a2
start a/a3 sh /tmp/writer.sh /mnt/tmpfs/a3 6 0
start a/a4 sock_churn 600 46 2048
start b/b1 fork_churn 600 2 512
start b/b2 churn 600 1 512 /mnt/ext2/b2
start b/b3 sock_churn 600 46 4096
start b/b4 sh /tmp/writer.sh /mnt/ext2/b4 6 1
# Let every workload get going before the first swap.
sleep 2
ended_early "before the first cycle"

# --- The storm: unload, load, rewrite a memory.max, take a CPU off or put
# it back, sample now and then.
t0=$(date +%s)
i=0
hotplug_ops=0
max_writes=0
off=""
while [ $i -lt $CYCLES ]; do
	rmmod memcg_rs || fail "rmmod, cycle $i"
	module_loaded && fail "memcg_rs still listed after rmmod, cycle $i"
	[ $(((i + 1) % (2 * QUARTER))) != 0 ] || sample "at cycle $i"
	nap 0.1
	insmod /lib/modules/memcg_rs.ko || fail "insmod, cycle $i"

	# shellcheck disable=SC2086
	nth $((i % NR_MAXES + 1)) $MAXES
	entry=$val
	echo "${entry#*=}" >$CG/$P/${entry%=*}/memory.max || fail "memory.max $entry, cycle $i"
	max_writes=$((max_writes + 1))

	case $((i % 5)) in
	1)
		off=$((1 + (i / 5) % (NCPU - 1)))
		echo 0 >/sys/devices/system/cpu/cpu$off/online || fail "offlining CPU $off, cycle $i"
		hotplug_ops=$((hotplug_ops + 1))
		;;
	3)
		echo 1 >/sys/devices/system/cpu/cpu$off/online || fail "onlining CPU $off, cycle $i"
		hotplug_ops=$((hotplug_ops + 1))
		;;
	esac
	[ $(((i + 1) % (2 * QUARTER))) != $QUARTER ] || sample "at cycle $i"
	[ $((i % 10)) != 9 ] || ended_early "by cycle $i"
	i=$((i + 1))
done
t_storm=$(($(date +%s) - t0))
echo "storm: $i unload/load cycles, $max_writes memory.max rewrites, $hotplug_ops CPU hotplug operations, $nr_samples samples in $t_storm s"
expect_eq "unload/load cycles under load" $i $CYCLES
expect_eq "samples of memory.current against memory.stat" $nr_samples 4
expect_eq "CPUs online after the storm" "$(online)" $NCPU
ended_early "before the $CYCLES cycles did"

# --- Stop the workloads; each reports what it did.
for pid in $pids; do
	kill -USR1 $pid || fail "signal workload $pid"
done
for pid in $pids; do
	wait $pid || fail "workload $pid exited with $?"
done
echo "memory.events (max high oom oom_kill), memory.peak:"
for c in $LEAVES; do
	printf '  %-6s %6d %6d %4d %4d %10d\n' $c "$(event $P/$c max)" "$(event $P/$c high)" \
		"$(event $P/$c oom)" "$(event $P/$c oom_kill)" "$(cat $CG/$P/$c/memory.peak)"
done
for c in $LEAVES; do
	expect_eq "$c oom_kill" "$(event $P/$c oom_kill)" 0
done
# The swaps happened while reclaim ran on both charge paths: at memory.max
# (a/a1 reads 20 MiB against at most 20M) and over memory.high (b/b2 reads
# 20 MiB over 10M).
expect_gt "a/a1 memory.events max (reclaim at memory.max)" "$(event $P/a/a1 max)" 0
expect_gt "b/b2 memory.events high (reclaim over memory.high)" "$(event $P/b/b2 high)" 0

# --- Back to the baseline once the workloads' memory is gone.
rm -f /mnt/tmpfs/a3/f0 /mnt/tmpfs/a3/f1
# What drop_caches leaves (it stops once a pass frees little) goes to each
# cgroup's own reclaim, which shrinks its dentries, inodes and shadow nodes.
drop_caches
for c in $LEAVES; do
	echo 1G >$CG/$P/$c/memory.reclaim 2>/dev/null
done
# Slab objects freed through RCU (task structs, pids, sockets) uncharge late.
sleep 1
give_back_stocks
flush_stats $P
table "final, module unloaded"
check_back
insmod /lib/modules/memcg_rs.ko || fail "insmod (final)"
while read -r c now rest; do
	[ "$c" != - ] || c=""
	var final "$c"
	eval "f=\$$vn"
	expect_eq "${c:-$P} memory.current after the final load" "$now" "$f"
done <<EOF
$(figures)
EOF

# --- Every cgroup goes away, and with it every charge it made to $P.
memcgs ""
nr_memcgs=$nm
for c in $LEAVES $MIDS; do
	rmdir $CG/$P/$c || fail "rmdir $P/$c"
done
wait_dying_zero "after removing $MIDS and their children" 30
# The children's object cgroups are reparented to $P: each uncharges its
# byte remainders when released, after an RCU grace period, or later if a
# cached object still holds it. Until then each keeps at most NCPU - 1 pages
# charged to $P (see check_back), as does $P's own.
sleep 1
give_back_stocks
flush_stats $P
echo "$P without children, module unloaded: memory.current $(cur) (kernel $(kmem)), empty baseline $empty_top (kernel $emptyk_top)"
expect_eq "$P memory.current - kernel back to its empty baseline" $(($(cur) - $(kmem))) $((empty_top - emptyk_top))
expect_le "$P kmem above its empty baseline (objcg byte remainders)" $(($(kmem) - emptyk_top)) \
	$((nr_memcgs * (NCPU - 1) * PAGE))
insmod /lib/modules/memcg_rs.ko || fail "insmod (end)"
rmdir $CG/$P || fail "rmdir $P"
wait_dying_zero "after removing $P" 30
[ -z "$bad" ] || fail "memory.current against memory.stat:$bad"
echo "hot_swap_stress: $CYCLES cycles, $max_writes memory.max rewrites, $hotplug_ops hotplug operations, $nr_samples samples; storm $t_storm s, whole scenario $(($(date +%s) - t_start)) s"
