# SPDX-License-Identifier: GPL-2.0
# modes: module
# Loading memcg_rs.ko while it is loaded fails with "File exists" (EEXIST:
# the module loader finds the name taken before it looks at parameters or
# runs init), and the module already loaded goes on as before: one copy
# listed, its oom_mode untouched by the refused load's oom_mode=sync, no
# second takeover of the charge path, charges and OOM handling still going
# through it, and it still unloads and loads.
. scenario.sh

MOD=/lib/modules/memcg_rs.ko
PARAM=/sys/module/memcg_rs/parameters/oom_mode

module_loaded || fail "memcg_rs not loaded at start"
expect_eq "oom_mode before the second insmod" "$(cat $PARAM)" deferred
takeovers=$(dmesg | grep -c 'memcg: charge path provided by memcg_rs')
expect_eq "charge path takeovers logged before" "$takeovers" 1

for args in "" "oom_mode=sync" "oom_mode=bogus"; do
	what="second insmod${args:+ $args}"
	out=$(insmod $MOD $args 2>&1)
	rc=$?
	echo "$what: exit status $rc: $out"
	[ $rc != 0 ] || fail "$what succeeded"
	case "$out" in
	*"File exists"*) echo "ok: $what refused with 'File exists'" ;;
	*) fail "$what: expected 'File exists', got: $out" ;;
	esac
	expect_eq "memcg_rs copies in /proc/modules after $what" "$(grep -c '^memcg_rs ' /proc/modules)" 1
	expect_eq "oom_mode after $what" "$(cat $PARAM)" deferred
done
# Refused before init: no registration attempt, no parameter parsed.
expect_eq "charge path takeovers logged after" \
	"$(dmesg | grep -c 'memcg: charge path provided by memcg_rs')" "$takeovers"
if dmesg | grep -q 'another charge path is already registered'; then
	fail "a second load got as far as registering its charge ops"
fi
if dmesg | grep -q "memcg_rs: oom_mode: 'bogus'"; then
	fail "the refused load parsed its oom_mode parameter"
fi

# The loaded module still charges, and still defers a fault's OOM to the
# fault's end and resolves it there (oom_mode deferred).
faults=$(mstat charges_user_fault)
recorded=$(mstat oom_contexts_recorded)
resolved=$(mstat oom_contexts_resolved)
mkcg oom 32M
run_in oom alloc_anon 64
expect_eq "alloc_anon exit status (128 + SIGKILL)" $? 137
expect_eq "memory.events oom_kill" "$(event oom oom_kill)" 1
expect_le "memory.peak" "$(cat $CG/oom/memory.peak)" $((32 << 20))
expect_gt "memcg_rs charges_user_fault" "$(mstat charges_user_fault)" "$faults"
expect_gt "memcg_rs oom_contexts_recorded" "$(mstat oom_contexts_recorded)" "$recorded"
expect_gt "memcg_rs oom_contexts_resolved" "$(mstat oom_contexts_resolved)" "$resolved"
rmdir $CG/oom || fail "rmdir oom"

rmmod memcg_rs || fail "rmmod after the refused loads"
module_loaded && fail "memcg_rs still listed after rmmod"
insmod $MOD || fail "insmod after rmmod"
expect_eq "oom_mode of the new load" "$(cat $PARAM)" deferred
