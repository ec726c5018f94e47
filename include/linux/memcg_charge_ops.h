/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pluggable memory cgroup charge path.
 *
 * A module may take over the part of the memory cgroup charge path that
 * decides whether a charge fits: the try-charge with its reclaim and OOM
 * ladder, and the per-CPU stock of pre-charged pages. The rest of memcg
 * (commit and uncharge of folios, the object stock of kernel memory,
 * statistics, the interface files) stays in C. With no module registered
 * the built-in code runs unchanged behind a static key.
 *
 * See Documentation/charge-ops.rst in the memcg-rs project for the rules.
 */
#ifndef _LINUX_MEMCG_CHARGE_OPS_H
#define _LINUX_MEMCG_CHARGE_OPS_H

#include <linux/export.h>
#include <linux/memcontrol.h>
#include <linux/oom.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/types.h>

struct module;

/**
 * struct memcg_charge_ops - a memory cgroup charge path
 * @owner: the module providing the operations, %NULL if built in.
 * @name: a short name for log messages.
 * @try_charge: charge @nr_pages to @memcg and its ancestors. Returns 0 when
 *	the pages are charged (possibly over the limit, as a forced charge
 *	for __GFP_NOFAIL, __GFP_HIGH or PF_MEMALLOC), -ENOMEM otherwise. May
 *	be called with the root memcg (objcg reparenting). May sleep only if
 *	gfpflags_allow_blocking(@gfp_mask). Replaces try_charge_memcg().
 * @refill_stock: take back @nr_pages that are charged to @memcg and no
 *	longer used (an over-charged batch, kmem and socket uncharges, the
 *	object stock handing back whole pages). Called from any context,
 *	including hard interrupts and with the built-in stock lock held and
 *	interrupts disabled: must not sleep, must not call back into memcg.
 *	@memcg may be the root memcg. Replaces refill_stock().
 * @drain_all_stock: return to the page counters the pages stocked for
 *	@root_memcg and its descendants, on all CPUs. May sleep; may be
 *	asynchronous like the built-in drain. Called by drain_all_stock()
 *	after it has drained the built-in object stocks (the local CPU's in
 *	place, the others by queued work), whose pages come back through
 *	@refill_stock.
 * @oom_synchronize: resolve the OOM that @try_charge deferred to the end of
 *	a user page fault with memcg_deferred_oom_set(). Called with no locks
 *	held, from the end of handle_mm_fault() (@handle false: the fault
 *	did not fail, just forget the OOM) and from pagefault_out_of_memory()
 *	(@handle true). The caller owns and drops the css reference of
 *	@memcg. May sleep.
 * @release_stocks: called once by memcg_charge_ops_unregister() after
 *	every call in flight has returned and before it returns itself.
 *	Must give every stocked page back to its counters and drop every
 *	css reference the stocks hold, synchronously. May sleep.
 *
 * All operations are mandatory.
 */
struct memcg_charge_ops {
	struct module *owner;
	const char *name;
	int (*try_charge)(struct mem_cgroup *memcg, gfp_t gfp_mask,
			  unsigned int nr_pages);
	void (*refill_stock)(struct mem_cgroup *memcg, unsigned int nr_pages);
	void (*drain_all_stock)(struct mem_cgroup *root_memcg);
	void (*oom_synchronize)(struct mem_cgroup *memcg, gfp_t gfp_mask,
				int order, bool handle);
	void (*release_stocks)(void);
};

int memcg_charge_ops_register(const struct memcg_charge_ops *ops);
int memcg_charge_ops_unregister(const struct memcg_charge_ops *ops);

bool memcg_deferred_oom_set(struct mem_cgroup *memcg, gfp_t gfp_mask,
			    int order);

/*
 * Charge path internals a module needs, exported GPL-only in namespace
 * MEMCG_CHARGE_OPS when CONFIG_MEMCG_CHARGE_OPS is set.
 * try_to_free_mem_cgroup_pages() is declared in <linux/swap.h>, the
 * page_counter functions in <linux/page_counter.h>.
 */
unsigned long mem_cgroup_margin(struct mem_cgroup *memcg);
void mem_cgroup_memory_event(struct mem_cgroup *memcg,
			     enum memcg_memory_event event);
bool mem_cgroup_oom(struct mem_cgroup *memcg, gfp_t gfp_mask, int order);
bool mem_cgroup_out_of_memory(struct mem_cgroup *memcg, gfp_t gfp_mask,
			      int order);
void mem_cgroup_handle_high_charge(struct mem_cgroup *memcg, gfp_t gfp_mask,
				   unsigned int nr_pages);
void drain_all_stock(struct mem_cgroup *root_memcg);

#if IS_ENABLED(CONFIG_KUNIT)
/*
 * The kernel's charge entry point and stock uncharge, exported to KUnit
 * tests and benchmarks (namespace EXPORTED_FOR_KUNIT_TESTING) so they can
 * compare the registered charge ops with the built-in path.
 */
int memcg_kunit_try_charge(struct mem_cgroup *memcg, gfp_t gfp_mask,
			   unsigned int nr_pages);
void memcg_kunit_uncharge(struct mem_cgroup *memcg, unsigned int nr_pages);
#endif

#ifdef CONFIG_MEMCG_CHARGE_OPS
#define EXPORT_SYMBOL_CHARGE_OPS(sym) EXPORT_SYMBOL_NS_GPL(sym, MEMCG_CHARGE_OPS)
#else
#define EXPORT_SYMBOL_CHARGE_OPS(sym)
#endif

/*
 * Whether current is on its way out, so that the charge path stops
 * reclaiming and retrying for it.
 */
static inline bool memcg_task_is_dying(void)
{
	return tsk_is_oom_victim(current) || fatal_signal_pending(current) ||
		(current->flags & PF_EXITING);
}

/*
 * Whether current is an OOM victim whose mm the OOM killer already gave
 * up on (reaped or exiting): its charges fail fast so that it can exit.
 */
static inline bool memcg_task_oom_skip(void)
{
	return tsk_is_oom_victim(current) &&
		test_bit(MMF_OOM_SKIP, &current->signal->oom_mm->flags);
}

#endif /* _LINUX_MEMCG_CHARGE_OPS_H */
