# SPDX-License-Identifier: GPL-2.0
# modes: module builtin
# A tmpfs writer going over memory.max, with no swap, cannot get its pages:
# it is OOM-killed (or its write fails), and the cgroup never goes over max.
. scenario.sh

mkdir -p /mnt/tmpfs
mount -t tmpfs -o size=256M tmpfs /mnt/tmpfs || fail "mount tmpfs"
mkcg shm 32M
run_in shm dd if=/dev/zero of=/mnt/tmpfs/f bs=1M count=64 2>/dev/null
rc=$?
echo "dd exit status: $rc"
[ $rc != 0 ] || fail "dd wrote 64M of tmpfs in a 32M cgroup"
[ $rc = 137 ] && expect_eq "memory.events oom_kill" "$(event shm oom_kill)" 1
expect_le "memory.peak" "$(cat $CG/shm/memory.peak)" $((32 << 20))
rm /mnt/tmpfs/f
# What stays charged is what the per-CPU stocks keep: at most a batch per CPU.
expect_le "memory.current after removing the file" "$(cat $CG/shm/memory.current)" $(($(nproc) * 64 * 4096))
rmdir $CG/shm || fail "rmdir"
