# SPDX-License-Identifier: GPL-2.0
# modes: module
# memcg_rs.ko unloads and loads again cleanly, ten times.
. scenario.sh

module_loaded || fail "memcg_rs not loaded at start"
i=0
while [ $i -lt 10 ]; do
	rmmod memcg_rs || fail "rmmod, cycle $i"
	module_loaded && fail "memcg_rs still listed after rmmod, cycle $i"
	insmod /lib/modules/memcg_rs.ko || fail "insmod, cycle $i"
	i=$((i + 1))
done
expect_eq "load/unload cycles" $i 10
