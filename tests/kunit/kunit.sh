# SPDX-License-Identifier: GPL-2.0
# Run by scripts/vm --no-module with memcg_rs.ko as an extra file: create the
# cgroups the KUnit cases use, load the module (its suites run at load, their
# KTAP goes to the console for scripts/ktap-results), then check that the
# cases left no charge or css reference behind.
. scenario.sh

root=memcg_rs_kunit
mkdir $CG/$root $CG/${root}_other || fail "mkdir"
echo +memory >$CG/$root/cgroup.subtree_control || fail "subtree_control"
for c in s0 s1 s2 s3 s4 s5 s6 s7 s8 s9 tiny; do
	mkdir $CG/$root/$c || fail "mkdir $c"
done
echo 8K >$CG/$root/tiny/memory.max || fail "memory.max"

insmod /usr/local/bin/memcg_rs.ko || fail "insmod memcg_rs.ko"
grep -q '^memcg_rs .* Live' /proc/modules || fail "memcg_rs is not live"
echo "memcg_rs live; KUnit suites ran at module load"

for c in s0 s1 s2 s3 s4 s5 s6 s7 s8 s9 tiny; do
	read -r cur <$CG/$root/$c/memory.current
	expect_eq "memory.current of $root/$c after the suites" "$cur" 0
done
# The test thread that recorded an OOM context exited with it: its css reference
# must be gone, so every cgroup can be removed and none stays dying.
for c in s0 s1 s2 s3 s4 s5 s6 s7 s8 s9 tiny; do
	rmdir $CG/$root/$c || fail "rmdir $c"
done
rmdir $CG/$root $CG/${root}_other || fail "rmdir $root"
wait_dying_zero "after removing $root" 10
