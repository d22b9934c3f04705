// Entry point of `serve`: config → app → listen; signals.
import { loadCredentials } from './config/credentials.js'
import { loadConfig } from './config/loader.js'

export interface ServeOptions {
  configFlag?: string | undefined
  env: Readonly<Record<string, string | undefined>>
  cwd: string
}

export async function serve (options: ServeOptions): Promise<number> {
  const { path } = loadConfig({ flag: options.configFlag, env: options.env, cwd: options.cwd })
  loadCredentials(options.env)
  process.stderr.write(`config ${path} is valid, but the HTTP API is not implemented yet\n`)
  return 1
}
