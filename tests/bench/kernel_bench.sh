# SPDX-License-Identifier: GPL-2.0
# In-guest side of the in-kernel micro-benchmark (scripts/bench): boots with
# kunit.filter_glob=memcg_rs_bench and memcg_rs.ko as a file, creates the
# cgroups the suite charges, loads the module with bench_iters=$BENCH_ITERS
# (the suite runs at load and prints "# bench_kernel ..." lines to the kernel
# log) and checks that nothing stays charged.
. scenario.sh

root=memcg_rs_kunit
kids="s0 s1 s2 s3 s4 s5 s6 s7 s8 s9"
mkdir $CG/$root || fail "mkdir $root"
echo +memory >$CG/$root/cgroup.subtree_control || fail "subtree_control"
for c in $kids; do
	mkdir $CG/$root/$c || fail "mkdir $c"
done

insmod /usr/local/bin/memcg_rs.ko bench_iters="${BENCH_ITERS:-20000}" || fail "insmod memcg_rs.ko"
grep -q '^memcg_rs .* Live' /proc/modules || fail "memcg_rs is not live"
rmmod memcg_rs || fail "rmmod"
for c in $kids; do
	expect_eq "memory.current of $root/$c" "$(cat $CG/$root/$c/memory.current)" 0
	rmdir $CG/$root/$c || fail "rmdir $c"
done
rmdir $CG/$root || fail "rmdir $root"
