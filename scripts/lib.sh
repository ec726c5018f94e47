# SPDX-License-Identifier: GPL-2.0
# Shared definitions for the memcg-rs build and test scripts. Sourced, not run.

MEMCG_RS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

die() {
	echo "memcg-rs: error: $*" >&2
	exit 1
}

note() {
	echo "memcg-rs: $*" >&2
}

# The pinned kernel version: the one non-comment line of kernel/version.
KERNEL_VERSION=$(grep -v '^#' "$MEMCG_RS_ROOT/kernel/version" | head -n 1)
KERNEL_TARBALL=${KERNEL_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
BINDGEN_VERSION=0.72.1

# Build cache: kernel trees live outside the repository, one per key.
CACHE_ROOT=${MEMCG_RS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/memcg-rs}

# DEBUG=1 selects the debug kernel (lockdep, KASAN, ...).
if [ "${DEBUG:-0}" = 1 ]; then
	VARIANT=debug
	CONFIG_FRAGMENTS="base.config debug.config"
else
	VARIANT=normal
	CONFIG_FRAGMENTS="base.config"
fi

KMAKE_FLAGS="ARCH=x86_64 LLVM=1"

# Everything that decides what the kernel build produces: the tarball, the
# pinned version, the patch series, the headers it adds, this variant's config
# fragments, the build script and the toolchain. Any change gives a new cache
# entry; the other variant's fragment does not.
kernel_key() {
	{
		echo "$KERNEL_VERSION $VARIANT"
		stat -c '%s %Y' "$KERNEL_TARBALL" 2>/dev/null || echo "no tarball"
		cd "$MEMCG_RS_ROOT" &&
			{ find kernel/patches include -type f; printf 'kernel/configs/%s\n' $CONFIG_FRAGMENTS; } |
			LC_ALL=C sort | xargs sha256sum
		sha256sum kernel/version scripts/build-kernel
		rustc --version 2>&1
		clang --version 2>&1 | head -n 1
		bindgen --version 2>&1
	} | sha256sum | cut -c1-12
}

# Directory of the built kernel tree for the current variant (may not exist yet).
kernel_dir() {
	echo "$CACHE_ROOT/kernel/$KERNEL_VERSION-$VARIANT-$(kernel_key)/linux"
}

kernel_ready() {
	[ -f "$(dirname "$(kernel_dir)")/complete" ]
}

# kernel_reports: the first lines of stdin (a console log) that report a
# kernel problem: an oops, BUG, WARN, lockdep, KASAN, UBSAN, RCU or
# sleeping-in-atomic report, a hung task or a page counter underflow.
kernel_reports() {
	grep -E -m 5 "$(
		printf '%s|' 'Kernel panic' 'BUG:' 'Oops' 'WARNING:' 'cut here' 'general protection fault' \
			'possible recursive locking' 'circular locking dependency' 'inconsistent lock state' \
			'suspicious RCU usage' 'KASAN' 'UBSAN' 'sleeping function called from invalid context' \
			'rcu_sched self-detected stall' 'rcu: INFO' 'blocked for more than' 'Call Trace without' \
			'page_counter underflow' |
			sed 's/|$//'
	)" || true
}
