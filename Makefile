# SPDX-License-Identifier: GPL-2.0
# memcg-rs: user-facing targets. kbuild reads Kbuild, not this file.
#
#   make run      boot the VM with memcg_rs.ko and show a memcg OOM kill
#   make test     every test; last line "N passed, N failed"
#   make bench    charge-path benchmarks: root cgroup, built-in path, memcg-rs
#   make module   build the kernel (cached) and memcg_rs.ko
#   make kernel   build the kernel only; prints its tree
#   make deps     install (as root) or name the packages needed
#   make clippy   build the module with CLIPPY=1
#   make fmt      rustfmt the module sources
#
# DEBUG=1 selects the debug kernel (lockdep, KASAN, ...) for any target.

.PHONY: all deps kernel module run test bench clippy fmt clean

all: module

deps:
	@scripts/deps

kernel:
	@scripts/build-kernel

module:
	@scripts/build-module

run:
	@scripts/vm --append kunit.enable=0 tests/demo/oom-demo.sh

test:
	@scripts/run-tests

bench:
	@scripts/bench

clippy:
	@scripts/clippy-check

fmt:
	@rustfmt --edition 2021 --config-path "$$(scripts/build-kernel)/.rustfmt.toml" src/*.rs

clean:
	@kdir=$$(cat .kdir 2>/dev/null) && [ -n "$$kdir" ] && \
		$(MAKE) -s -C "$$kdir" M="$(CURDIR)" ARCH=x86_64 LLVM=1 clean || true
	@rm -rf build .kdir
