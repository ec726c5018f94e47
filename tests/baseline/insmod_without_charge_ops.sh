# SPDX-License-Identifier: GPL-2.0
# On a kernel without the charge-ops interface (scripts/baseline-kernel: same
# source and normal config, no patch series; make test boots it), loading
# memcg_rs.ko fails cleanly: insmod reports unknown symbols, the kernel log
# names the interface's registration function as the missing one, nothing is
# left loaded, and the built-in charge path goes on enforcing memory.max.
. scenario.sh

[ -e /sys/kernel/debug/memcg_rs ] && fail "memcg_rs debugfs present before the load"
out=$(insmod /usr/local/bin/memcg_rs.ko 2>&1)
rc=$?
echo "insmod: exit status $rc: $out"
[ $rc != 0 ] || fail "insmod succeeded on a kernel without the charge-ops interface"
case "$out" in
*"unknown symbol"*) echo "ok: insmod reports an unknown symbol" ;;
*) fail "insmod: expected 'unknown symbol', got: $out" ;;
esac
dmesg | grep -q 'memcg_rs: Unknown symbol memcg_charge_ops_register' ||
	fail "the kernel log does not name memcg_charge_ops_register as missing"
echo "ok: the kernel log names memcg_charge_ops_register"
grep -q '^memcg_rs ' /proc/modules && fail "memcg_rs listed in /proc/modules"
echo "ok: nothing loaded"

mkcg limited 32M
run_in limited alloc_anon 64
expect_eq "alloc_anon exit status over memory.max (128 + SIGKILL)" $? 137
expect_eq "memory.events oom_kill" "$(event limited oom_kill)" 1
rmdir $CG/limited || fail "rmdir limited"
