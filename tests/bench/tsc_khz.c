// SPDX-License-Identifier: GPL-2.0
/*
 * tsc_khz: the host's TSC frequency in kHz, measured against
 * CLOCK_MONOTONIC_RAW over 200 ms. Built and run on the host by
 * scripts/bench: under multi-threaded TCG the guest's TSC is the host's, and
 * the guest, which cannot calibrate it there (no HPET, no PM timer, a PIT too
 * slow to trust), is told the frequency with tsc_early_khz=.
 */
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC_RAW, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(void)
{
	struct timespec pause = { 0, 200 * 1000 * 1000 };
	double t0, t1;
	unsigned long long c0, c1;

	t0 = now();
	c0 = __rdtsc();
	nanosleep(&pause, NULL);
	t1 = now();
	c1 = __rdtsc();
	printf("%.0f\n", (c1 - c0) / (t1 - t0) / 1e3);
	return 0;
}
