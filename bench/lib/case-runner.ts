// Runs one benchmark case in a fresh Node process (its own heap and RSS) and returns what it reports.
import { fork } from 'node:child_process'

/** Forks `script` with `args`; the case answers with one `process.send(result)`. */
export async function runCase<T> (script: string, args: string[]): Promise<T> {
  const child = fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: nodeArgs('BENCH_NODE_ARGS') })
  return await new Promise<T>((resolve, reject) => {
    let result: T | undefined
    child.on('message', (m: T) => {
      result = m
    })
    child.on('error', reject)
    child.on('exit', (code) => {
      if (result !== undefined && code === 0) resolve(result)
      else reject(new Error(`benchmark case ${script} ${args.join(' ')} exited with ${code}`))
    })
  })
}

/**
 * Runs `script --case <name>` for each name in turn, each in a fresh process, and says on
 * stderr which one runs (`<bench>: <label> ...`).
 */
export async function runCases<T> (bench: string, script: string, names: readonly string[], label = (name: string) => name): Promise<T[]> {
  const results: T[] = []
  for (const name of names) {
    console.error(`${bench}: ${label(name)} ...`)
    results.push(await runCase<T>(script, ['--case', name]))
  }
  return results
}

/** Extra Node options from an environment variable, e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof". */
export function nodeArgs (variable: string): string[] {
  return (process.env[variable] ?? '').split(/\s+/).filter(Boolean)
}

/** In a case process: sends the result to the parent and exits. */
export function report (result: unknown): void {
  process.send?.(result, () => process.exit(0))
}

/** `--name value` from argv. */
export function arg (name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? undefined : process.argv[i + 1]
}
