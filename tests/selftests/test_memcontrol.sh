# SPDX-License-Identifier: GPL-2.0
# Run by scripts/vm with test_memcontrol and test_memcontrol.tests (from
# scripts/build-selftests) as extra files: give the upstream memcg selftest
# the environment it assumes and run it. Without page cache on a real
# filesystem, swap, loopback and localhost, min, low, max, oom_events,
# swap_max_peak, sock and the oom_group tests fail or skip on the built-in
# path too. Prints TAP (the plan from the test list, then the binary's own
# "ok N name" / "not ok N name" lines) and exits with the binary's status;
# 3 when the environment cannot be set up.

bail() {
	echo "Bail out! $*"
	exit 3
}

command -v test_memcontrol >/dev/null || bail "no test_memcontrol on PATH"
[ -s /usr/local/bin/test_memcontrol.tests ] || bail "no test_memcontrol.tests"

# Page cache on a real filesystem: the tests create their files in the current
# directory (O_TMPFILE), which tmpfs would account as shmem.
mke2fs -q /dev/ram0 >/dev/null || bail "mke2fs /dev/ram0"
mkdir -p /mnt/ext2
mount -t ext2 /dev/ram0 /mnt/ext2 || bail "mount ext2 on /dev/ram0"
cd /mnt/ext2 || bail "cd /mnt/ext2"

# Swap, for reclaim of anonymous memory and memory.swap.*.
mkswap /dev/ram1 >/dev/null || bail "mkswap /dev/ram1"
swapon /dev/ram1 || bail "swapon /dev/ram1"
grep -q '^/dev/ram1 ' /proc/swaps || bail "/dev/ram1 is not in /proc/swaps"

# Loopback and localhost (both families), for test_memcg_sock.
ip link set lo up || bail "ip link set lo up"
ip -o link show lo | grep -q '[<,]UP[,>]' || bail "lo is not up"
ip -o addr show lo | grep -q 'inet 127\.0\.0\.1/' || bail "lo has no 127.0.0.1"
ip -o addr show lo | grep -q 'inet6 ::1/' || bail "lo has no ::1"
grep -q '^127\.0\.0\.1[[:space:]]\+localhost$' /etc/hosts || bail "/etc/hosts lacks 127.0.0.1 localhost"
grep -q '^::1[[:space:]]\+localhost$' /etc/hosts || bail "/etc/hosts lacks ::1 localhost"

if grep -q '^memcg_rs ' /proc/modules; then
	echo "# charge path: memcg_rs.ko, $(nproc) CPUs"
else
	echo "# charge path: built-in, $(nproc) CPUs"
fi
# The runner convention: the caller prints the TAP header, the binary does not.
export KSFT_TAP_LEVEL=1
echo "TAP version 13"
echo "1..$(wc -l </usr/local/bin/test_memcontrol.tests)"
start=$(cut -d' ' -f1 /proc/uptime)
test_memcontrol
rc=$?
end=$(cut -d' ' -f1 /proc/uptime)
echo "# test_memcontrol exited with $rc after $(awk "BEGIN { printf \"%.1f\", $end - $start }") s"
exit $rc
