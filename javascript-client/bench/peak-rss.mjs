import { readFileSync } from 'node:fs';

/**
 * This process's peak resident set, in bytes. On Linux, VmHWM of /proc/self/status: the
 * ru_maxrss that `process.resourceUsage().maxRSS` gives is carried over from the parent
 * through fork and exec, so a benchmark process larger than Node would show as Node's peak.
 */
export function peakRss() {
  try {
    const kib = /^VmHWM:\s*(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kib) return Number(kib) * 1024;
  } catch {
    // Not Linux: ru_maxrss is the best there is.
  }
  return process.resourceUsage().maxRSS * 1024;
}
