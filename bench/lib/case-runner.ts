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
