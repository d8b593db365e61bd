#!/usr/bin/env bash
# Runs a command and reports, on stderr, the machine's CPU use by OTHER processes during it:
# total busy CPU time from /proc/stat minus the CPU time of the command (its waited-for children).
# The machines are shared; a run where others used a large share of a core is noisy.
# Usage: scripts/with_cpu_report.sh COMMAND [ARGS...]
set -uo pipefail

busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
# cutime + cstime of this shell: CPU of children it has waited for (fields 16 and 17).
child_ticks() { awk '{print $16 + $17}' "/proc/$$/stat"; }

hz=$(getconf CLK_TCK)
start_busy=$(busy_ticks)
start_child=$(child_ticks)
start_time=$(date +%s.%N)
"$@"
status=$?
end_time=$(date +%s.%N)
end_busy=$(busy_ticks)
end_child=$(child_ticks)
awk -v b=$((end_busy - start_busy)) -v c=$((end_child - start_child)) -v hz="$hz" -v t0="$start_time" -v t1="$end_time" \
  -v cores="$(nproc)" 'BEGIN {
    wall = t1 - t0; other = (b - c) / hz; if (other < 0) other = 0;
    printf("[cpu-report] wall %.1f s; this command %.1f CPU-s; other processes %.1f CPU-s = %.0f%% of one core on average (%d cores)\n",
           wall, c / hz, other, 100 * other / wall, cores) > "/dev/stderr" }'
exit $status
