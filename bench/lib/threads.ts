// CPU time of the process's main (JavaScript) thread and of its other threads (V8 GC and compiler, libuv), from /proc on Linux.
import { readdirSync, readFileSync } from 'node:fs'

/** Milliseconds of user + system time; undefined where /proc is not available. Resolution: one clock tick (10 ms). */
export function threadCpuMs (): { main: number; others: number } | undefined {
  try {
    let main = 0
    let others = 0
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const ms = (Number(fields[11]) + Number(fields[12])) * 10
      if (Number(tid) === process.pid) main += ms
      else others += ms
    }
    return { main, others }
  } catch {
    return undefined
  }
}
