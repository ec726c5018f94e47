# SPDX-License-Identifier: GPL-2.0
# Run by tests/harness/vm_reports_hang in the guest: leave a task asleep in a
# cgroup of its own and never finish.
mkdir /sys/fs/cgroup/hung || exit 1
sh -c 'echo $$ >/sys/fs/cgroup/hung/cgroup.procs && exec sleep 1000' &
wait
