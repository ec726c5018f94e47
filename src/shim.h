/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The interface between memcg-rs's C shim (shim.c) and its Rust code
 * (shim.rs declares the C side again for Rust).
 */
#ifndef _MEMCG_RS_SHIM_H
#define _MEMCG_RS_SHIM_H

#include <linux/types.h>

struct mem_cgroup;

/* Implemented in C, called from Rust. */
extern int memcg_rs_oom_mode;
extern unsigned int memcg_rs_bench_iters;
extern unsigned long memcg_rs_in_user_fault_offset;
extern u8 memcg_rs_in_user_fault_mask;
int memcg_rs_shim_init(void);
void memcg_rs_shim_exit(void);
void memcg_rs_memstall_enter(unsigned long *flags);
void memcg_rs_memstall_leave(unsigned long *flags);
void memcg_rs_cond_resched(void);
bool memcg_rs_memory_on_v2(void);
unsigned int memcg_rs_nr_cpu_ids(void);
unsigned int memcg_rs_get_cpu(void);
void memcg_rs_put_cpu(void);
bool memcg_rs_in_user_fault(void);
void memcg_rs_set_in_user_fault(bool in_fault);
bool memcg_rs_memcg_is_descendant(struct mem_cgroup *memcg,
				  struct mem_cgroup *root);
void memcg_rs_warn_underflow(long new, unsigned long nr_pages);
long memcg_rs_c_layout(const char *name);
unsigned int memcg_rs_c_layout_count(void);

/* Implemented in Rust (stats.rs, ops.rs), called from C. */
unsigned int memcg_rs_stat_count(void);
const char *memcg_rs_stat_name(unsigned int i);
u64 memcg_rs_stat_value(unsigned int i);
void memcg_rs_cpu_dead(unsigned int cpu);

#endif /* _MEMCG_RS_SHIM_H */
