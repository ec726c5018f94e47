# SPDX-License-Identifier: GPL-2.0
# modes: module builtin
# Pages a CPU keeps in its charge stock for a cgroup go back to the cgroup's
# counters when that CPU goes offline.
. scenario.sh

mkcg hot
# A short allocation on CPU 1 leaves surplus pages of its last batch in
# CPU 1's stock once its memory is freed.
run_in hot taskset -c 1 alloc_anon 1 >/dev/null || fail "alloc_anon"
stocked=$(cat $CG/hot/memory.current)
echo "memory.current with CPU 1's stock: $stocked"
expect_gt "memory.current held by the stock" "$stocked" $((16 * 4096))
echo 0 >/sys/devices/system/cpu/cpu1/online || fail "offlining CPU 1"
after=$(cat $CG/hot/memory.current)
echo 1 >/sys/devices/system/cpu/cpu1/online || fail "onlining CPU 1"
# A few kernel-memory pages (slab objects of the exited task) may stay charged.
expect_le "memory.current after CPU 1 went offline" "$after" $((8 * 4096))
rmdir $CG/hot || fail "rmdir"
