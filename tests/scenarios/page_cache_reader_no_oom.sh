# SPDX-License-Identifier: GPL-2.0
# modes: module builtin
# Reading a file twice memory.max through the page cache reclaims, never OOMs.
. scenario.sh

# A sparse file: reading its holes fills the page cache (charged to the
# reader) as reading blocks does, and it takes no writing (seconds on the
# debug kernel), nor a filesystem larger than its metadata.
setup_ext2 16384
truncate -s 64M /mnt/ext2/big || fail "truncate"
drop_caches

mkcg reader 32M
run_in reader read_file /mnt/ext2/big
expect_eq "read_file exit status" $? 0
expect_eq "memory.events oom" "$(event reader oom)" 0
expect_eq "memory.events oom_kill" "$(event reader oom_kill)" 0
expect_le "memory.peak" "$(cat $CG/reader/memory.peak)" $((32 << 20))
[ "$(event reader max)" -gt 0 ] || fail "memory.events max stayed 0: the limit was never hit"
echo "ok: memory.events max = $(event reader max)"
rmdir $CG/reader || fail "rmdir"
