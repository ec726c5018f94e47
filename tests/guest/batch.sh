# SPDX-License-Identifier: GPL-2.0
# Run by scripts/vm for scripts/run-tests, with scenario scripts and
# batch.list (their names, one a line) as extra files: run the scenarios
# one after another in this boot, each from the state a fresh boot gives
# it, between markers on the output and in the kernel log:
#   memcg-rs-batch: begin NAME
#   memcg-rs-batch: end NAME STATUS
# Before each scenario (see reset) no task is left in a child cgroup and no
# child cgroup, dying cgroup, mount under /mnt, swap device, offline CPU or
# file in /tmp remains; the kernel log is cleared (scenarios grep it);
# memcg_rs.ko is loaded afresh (tunables at their defaults) or, for
# --no-module batches, not loaded. When that cannot be done it prints
#   memcg-rs-batch: stop: WHY
# and ends: the host runs the remaining scenarios in a new boot. Each
# scenario gets BATCH_TIMEOUT seconds (from batch.list's first line).
. scenario.sh

mark() {
	echo "memcg-rs-batch: $*"
	echo "memcg-rs-batch: $*" >/dev/kmsg
}

stop() {
	mark "stop: $*"
	exit 0
}

# (Shell builtins where they do: a process costs ~60 ms on the debug kernel.)
reset() {
	for f in $(find $CG -mindepth 2 -name cgroup.procs); do
		# (cgroup files have no size: read them)
		! read -r t <"$f" || stop "tasks left in ${f%/cgroup.procs} (the first: $t)"
	done
	mounts=""
	while read -r dev m rest; do
		case "$m" in
		/mnt/*) mounts="$m $mounts" ;; # the last mounted first
		esac
	done </proc/mounts
	for m in $mounts; do
		umount "$m" || stop "umount $m"
	done
	{
		read -r header
		! read -r swap || swapoff -a || stop "swapoff"
	} </proc/swaps
	for f in /sys/devices/system/cpu/cpu*/online; do
		read -r on <"$f"
		[ "$on" = 1 ] || echo 1 >"$f" || stop "onlining ${f%/online}"
	done
	rm -rf /tmp/* /tmp/.[!.]* || stop "emptying /tmp"
	set -- $CG/*/
	if [ -d "$1" ]; then
		for d in $(find $CG -mindepth 1 -type d | sort -r); do
			rmdir "$d" || stop "rmdir $d"
		done
	fi
	! module_loaded || rmmod memcg_rs || stop "rmmod memcg_rs"
	drop_caches
	no_dying_within 10 ||
		stop "dying cgroups remain: $(cgstat nr_dying_descendants), memory css $(cgstat nr_dying_subsys_memory)"
	dmesg -c >/dev/null
	if [ "$VM_MODULE" = 1 ]; then
		# shellcheck disable=SC2086
		insmod /lib/modules/memcg_rs.ko $VM_MODULE_ARGS || stop "insmod memcg_rs.ko"
	fi
}

. /etc/vm.conf
list=/usr/local/bin/batch.list
{
	read -r timeout
	names=""
	while read -r name; do
		names="$names $name"
	done
} <$list
for name in $names; do
	reset
	mark "begin $name"
	(cd /tmp && timeout -s KILL "$timeout" sh "/usr/local/bin/$name.sh")
	mark "end $name $?"
done
