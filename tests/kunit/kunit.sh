# SPDX-License-Identifier: GPL-2.0
# The module's KUnit suites ran when scripts/vm loaded it; scripts/ktap-results
# reads their KTAP from the console. Fail here if the module is not live.
grep -q '^memcg_rs .* Live' /proc/modules || { echo "memcg_rs is not live"; exit 1; }
echo "memcg_rs live; KUnit suites ran at module load"
