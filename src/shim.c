// SPDX-License-Identifier: GPL-2.0
/*
 * The parts of memcg-rs that 6.12's Rust abstractions cannot express: the
 * oom_mode module parameter, the debugfs stats file, the CPU-hotplug
 * callback, and a few inline kernel functions (CPU number, preemption,
 * memcg hierarchy tests, PSI memory stalls). Everything here is a thin
 * wrapper; the logic is in the Rust files.
 */

#include <linux/cgroup.h>
#include <linux/cpuhotplug.h>
#include <linux/debugfs.h>
#include <linux/memcontrol.h>
#include <linux/module.h>
#include <linux/kstrtox.h>
#include <linux/moduleparam.h>
#include <linux/preempt.h>
#include <linux/psi.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/string.h>

#include <kunit/test.h>

#include "shim.h"

MODULE_IMPORT_NS(MEMCG_CHARGE_OPS);
#if IS_ENABLED(CONFIG_KUNIT)
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
#endif

/* oom_mode: 0 deferred to the end of the user page fault, 1 synchronous. */
int memcg_rs_oom_mode;
static const char *const oom_mode_names[] = { "deferred", "sync" };

static int oom_mode_set(const char *val, const struct kernel_param *kp)
{
	int mode = sysfs_match_string(oom_mode_names, val);

	if (mode < 0) {
		pr_err("memcg_rs: oom_mode: '%.*s' is not one of: deferred, sync\n",
		       (int)strcspn(val, "\n"), val);
		return -EINVAL;
	}
	WRITE_ONCE(memcg_rs_oom_mode, mode);
	return 0;
}

static int oom_mode_get(char *buffer, const struct kernel_param *kp)
{
	return sysfs_emit(buffer, "%s\n", oom_mode_names[READ_ONCE(memcg_rs_oom_mode)]);
}

static const struct kernel_param_ops oom_mode_ops = {
	.set = oom_mode_set,
	.get = oom_mode_get,
};
module_param_cb(oom_mode, &oom_mode_ops, NULL, 0644);
MODULE_PARM_DESC(oom_mode, "Memcg OOM inside a user page fault: deferred (to the fault's end, default) or sync");

/*
 * bench_iters: charges per measurement in the memcg_rs_bench KUnit suite
 * (make bench raises it; the default keeps the suite quick in make test).
 */
#define BENCH_ITERS_MAX 10000000U
unsigned int memcg_rs_bench_iters = 2000;

static int bench_iters_set(const char *val, const struct kernel_param *kp)
{
	unsigned int iters;

	if (kstrtouint(val, 0, &iters) || !iters || iters > BENCH_ITERS_MAX) {
		pr_err("memcg_rs: bench_iters: '%.*s' is not a number from 1 to %u\n",
		       (int)strcspn(val, "\n"), val, BENCH_ITERS_MAX);
		return -EINVAL;
	}
	WRITE_ONCE(memcg_rs_bench_iters, iters);
	return 0;
}

static const struct kernel_param_ops bench_iters_ops = {
	.set = bench_iters_set,
	.get = param_get_uint,
};
module_param_cb(bench_iters, &bench_iters_ops, &memcg_rs_bench_iters, 0644);
MODULE_PARM_DESC(bench_iters, "Charges per measurement in the memcg_rs_bench KUnit suite (1-10000000, default 2000)");

static int stats_show(struct seq_file *m, void *v)
{
	unsigned int i, n = memcg_rs_stat_count();

	for (i = 0; i < n; i++)
		seq_printf(m, "%s %llu\n", memcg_rs_stat_name(i), memcg_rs_stat_value(i));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

static struct dentry *debugfs_dir;
static int cpuhp_state = -1;

static int cpu_dead(unsigned int cpu)
{
	memcg_rs_cpu_dead(cpu);
	return 0;
}

/*
 * The byte of struct task_struct that holds in_user_fault, and its bit, for
 * the charge fast path to test inline. A bitfield has no address to take, and
 * bindgen's accessor for it would tie the fast path to bindgen's layout (0.73.0
 * placed the fields after rt_priority 64 bytes too far). So they are found
 * once, in a zeroed task_struct with only that bit set.
 */
unsigned long memcg_rs_in_user_fault_offset;
u8 memcg_rs_in_user_fault_mask;

static int find_in_user_fault(void)
{
	struct task_struct *probe = kzalloc(sizeof(*probe), GFP_KERNEL);
	u8 *byte;

	if (!probe)
		return -ENOMEM;
	probe->in_user_fault = 1;
	byte = memchr_inv(probe, 0, sizeof(*probe));
	if (byte) {
		memcg_rs_in_user_fault_offset = byte - (u8 *)probe;
		memcg_rs_in_user_fault_mask = *byte;
	}
	kfree(probe);
	return byte ? 0 : -EINVAL;
}

/* Called by the Rust module init once its stocks exist. */
int memcg_rs_shim_init(void)
{
	int ret;

	ret = find_in_user_fault();
	if (ret)
		return ret;

	ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "memcg_rs:dead", NULL, cpu_dead);
	if (ret < 0)
		return ret;
	cpuhp_state = ret;

	debugfs_dir = debugfs_create_dir("memcg_rs", NULL);
	debugfs_create_file("stats", 0444, debugfs_dir, NULL, &stats_fops);
	return 0;
}

void memcg_rs_shim_exit(void)
{
	debugfs_remove_recursive(debugfs_dir);
	if (cpuhp_state >= 0)
		cpuhp_remove_state_nocalls(cpuhp_state);
}

void memcg_rs_memstall_enter(unsigned long *flags)
{
	psi_memstall_enter(flags);
}

void memcg_rs_memstall_leave(unsigned long *flags)
{
	psi_memstall_leave(flags);
}

/* cond_resched() is a macro, and no function at all with full preemption. */
void memcg_rs_cond_resched(void)
{
	cond_resched();
}

bool memcg_rs_memory_on_v2(void)
{
	return cgroup_subsys_on_dfl(memory_cgrp_subsys);
}

unsigned int memcg_rs_nr_cpu_ids(void)
{
	return nr_cpu_ids;
}

/* Pins current to its CPU and returns that CPU's number. */
unsigned int memcg_rs_get_cpu(void)
{
	return get_cpu();
}

void memcg_rs_put_cpu(void)
{
	put_cpu();
}

/* Whether the charge comes from a user page fault (bindgen's bitfield layout is not trusted). */
bool memcg_rs_in_user_fault(void)
{
	return in_task() && current->in_user_fault;
}

/* For KUnit: make current look like it is inside a user page fault, or not. */
void memcg_rs_set_in_user_fault(bool in_fault)
{
	current->in_user_fault = in_fault;
}

bool memcg_rs_memcg_is_descendant(struct mem_cgroup *memcg, struct mem_cgroup *root)
{
	return mem_cgroup_is_descendant(memcg, root);
}

/*
 * A page counter went below zero: an uncharge without its charge. Rust in 6.12
 * has no WARN, so the report is made here, once, as C's page_counter_cancel()
 * makes it.
 */
void memcg_rs_warn_underflow(long new, unsigned long nr_pages)
{
	WARN_ONCE(1, "page_counter underflow: %ld nr_pages=%lu\n", new, nr_pages);
}

#if IS_ENABLED(CONFIG_KUNIT)
/*
 * Where C places the fields the Rust code reads or writes through bindgen's
 * structs, for the KUnit case that checks bindgen agrees: bindgen 0.73.0
 * misplaced fields that follow some paddings (in task_struct, all after
 * rt_priority), and such a field read from Rust would be silently wrong.
 */
#define LAYOUT(type, field) { #type "." #field, offsetof(struct type, field) }

static const struct {
	const char *name;
	size_t offset;
} c_layout[] = {
	LAYOUT(page_counter, usage),
	LAYOUT(page_counter, emin),
	LAYOUT(page_counter, min_usage),
	LAYOUT(page_counter, children_min_usage),
	LAYOUT(page_counter, elow),
	LAYOUT(page_counter, low_usage),
	LAYOUT(page_counter, children_low_usage),
	LAYOUT(page_counter, watermark),
	LAYOUT(page_counter, local_watermark),
	LAYOUT(page_counter, failcnt),
	LAYOUT(page_counter, protection_support),
	LAYOUT(page_counter, min),
	LAYOUT(page_counter, low),
	LAYOUT(page_counter, high),
	LAYOUT(page_counter, max),
	LAYOUT(page_counter, parent),
	{ "sizeof page_counter", sizeof(struct page_counter) },
	LAYOUT(mem_cgroup, css),
	LAYOUT(mem_cgroup, memory),
	LAYOUT(mem_cgroup, memory_events),
	LAYOUT(cgroup, self),
	LAYOUT(task_struct, flags),
	LAYOUT(kunit, status),
	LAYOUT(kunit, status_comment),
#ifdef CONFIG_X86_64
	LAYOUT(pcpu_hot, current_task),
	LAYOUT(pcpu_hot, preempt_count),
	LAYOUT(pcpu_hot, cpu_number),
#endif
};

/* For KUnit: C's offset of NAME ("struct.field"), or -1 if the table lacks it. */
long memcg_rs_c_layout(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(c_layout); i++)
		if (!strcmp(c_layout[i].name, name))
			return c_layout[i].offset;
	return -1;
}

unsigned int memcg_rs_c_layout_count(void)
{
	return ARRAY_SIZE(c_layout);
}
#endif
