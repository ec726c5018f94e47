# SPDX-License-Identifier: GPL-2.0
# make run: a cgroup with memory.max = 64M, a workload that touches 128M, and
# what the memory controller did about it.
. scenario.sh

echo "== memcg-rs demo: $(uname -r), module: $(grep -o '^memcg_rs' /proc/modules || echo 'not loaded (built-in charge path)')"
mkcg demo 64M
echo "== /sys/fs/cgroup/demo/memory.max = $(cat $CG/demo/memory.max)"
echo "== running 'alloc_anon 128' (touches 128 MiB) in the cgroup"
run_in demo alloc_anon 128
rc=$?
if [ $rc -gt 128 ]; then
	echo "== alloc_anon was killed by signal $((rc - 128))"
else
	echo "== alloc_anon exited with status $rc"
fi
echo "== memory.current: $(cat $CG/demo/memory.current)"
echo "== memory.peak:    $(cat $CG/demo/memory.peak)"
echo "== memory.events:"
sed 's/^/     /' $CG/demo/memory.events
echo "== OOM kill, from the kernel log:"
dmesg | grep -E "invoked oom-killer|oom-kill:|Memory cgroup out of memory" | sed 's/^/     /'
if module_loaded; then
	echo "== memcg-rs: the OOM was recorded in the page fault and resolved at its end:"
	grep -E '^(charges_user_fault|reclaim_calls|oom_)' /sys/kernel/debug/memcg_rs/stats | sed 's/^/     /'
fi
[ "$(event demo oom_kill)" -ge 1 ] || fail "no OOM kill happened"
