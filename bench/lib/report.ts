// Tables, percentiles, targets and the results files of the benchmarks.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** bench/results of the repository, found from this file whether it runs compiled (under bench/results/build) or not. */
function findResultsDir (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'bench', 'results', '.gitkeep')) && dirname(dir) !== dir) dir = dirname(dir)
  return join(dir, 'bench', 'results')
}

export const resultsDir = findResultsDir()

export interface Machine {
  nproc: number
  cpu: string
  memoryGb: number
  node: string
  platform: string
}

export function machine (): Machine {
  let cpu = cpus()[0]?.model ?? 'unknown'
  try {
    cpu = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu
  } catch {}
  return {
    nproc: cpus().length,
    cpu,
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  }
}

export interface Target {
  name: string
  /** What was measured, as printed. */
  measured: string
  pass: boolean
}

export function target (name: string, measured: string, pass: boolean): Target {
  return { name, measured, pass }
}

/** p in [0, 100], nearest-rank. */
export function percentile (values: number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[rank - 1]!
}

export function median (values: number[]): number {
  return percentile(values, 50)
}

export const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits
export const mb = (bytes: number): number => round(bytes / 1024 ** 2)

export function table (headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))]
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`
  return [line(cells[0]!), `|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...cells.slice(1).map(line)].join('\n')
}

export function printTargets (targets: Target[]): void {
  for (const t of targets) console.log(`${t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${t.measured}`)
}

export function writeResult (name: string, result: Record<string, unknown>): string {
  const file = join(resultsDir, `${name}.json`)
  writeFileSync(file, `${JSON.stringify({ benchmark: name, date: new Date().toISOString(), machine: machine(), ...result }, null, 2)}\n`)
  return file
}
