// Finds, reads, validates and resolves the config file; every problem becomes one `path: message` line.
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { Ajv, type ErrorObject } from 'ajv'
import yaml from 'js-yaml'
import { type Config, type Problem, resolveConfig, sanitizeUrl } from './resolve.js'
import { configSchema, directions, type FileConfig } from './schema.js'

export const configFileName = 'scicat-globus-proxy-config.yaml'

export class ConfigError extends Error {
  override name = 'ConfigError'
  constructor (
    message: string,
    readonly problems: string[] = []
  ) {
    super(problems.length ? `${message}\n${problems.map((p) => `  ${p}`).join('\n')}` : message)
  }
}

type Env = Readonly<Record<string, string | undefined>>

/** The user config directory, as Go's os.UserConfigDir computes it. */
export function userConfigDir (
  env: Env,
  platform: NodeJS.Platform = process.platform
): string | undefined {
  const home = env.HOME ?? homedir()
  if (platform === 'win32') return env.AppData ?? env.APPDATA
  if (platform === 'darwin') return home ? join(home, 'Library', 'Application Support') : undefined
  return env.XDG_CONFIG_HOME || (home ? join(home, '.config') : undefined)
}

/** The places searched for the config file, in order (DESIGN §2). */
export function configCandidates (options: {
  flag?: string
  env: Env
  cwd: string
  platform?: NodeJS.Platform
}): string[] {
  if (options.flag) return [resolve(options.cwd, options.flag)]
  if (options.env.SCICAT_GLOBUS_PROXY_CONFIG) { return [resolve(options.cwd, options.env.SCICAT_GLOBUS_PROXY_CONFIG)] }
  const dir = userConfigDir(options.env, options.platform)
  return [
    join(options.cwd, configFileName),
    ...(dir ? [join(dir, 'scicat-globus-proxy', configFileName)] : []),
  ]
}

export function readConfigText (candidates: string[]): { path: string; text: string } {
  for (const path of candidates) {
    try {
      return { path, text: readFileSync(path, 'utf8') }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (candidates.length === 1 || (code !== 'ENOENT' && code !== 'ENOTDIR')) {
        throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`)
      }
    }
  }
  throw new ConfigError(
    `no config file found; searched:\n${candidates.map((c) => `  ${c}`).join('\n')}\n` +
      'Pass --config FILE or set SCICAT_GLOBUS_PROXY_CONFIG; to try the service without one, run `scicat-globus-proxy sandbox`.'
  )
}

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true })
const validate = ajv.compile(configSchema)

function jsonPath (instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((seg) => seg.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '')
}

function describe (e: ErrorObject): Problem {
  const at = jsonPath(e.instancePath)
  const join = (key: string) => (at ? `${at}.${key}` : key)
  switch (e.keyword) {
    case 'required':
      return { path: join(e.params.missingProperty as string), message: 'is required' }
    case 'additionalProperties':
      return { path: join(e.params.additionalProperty as string), message: 'unknown key' }
    case 'enum': {
      const allowed = (e.params.allowedValues as unknown[]).filter((v) => v !== '')
      return { path: at, message: `must be one of ${allowed.join(', ')}` }
    }
    case 'pattern':
      return { path: at, message: 'must be an http(s) URL' }
    case 'minItems':
      return { path: at, message: `must have at least ${e.params.limit} item(s)` }
    case 'anyOf':
      return { path: at, message: 'must be a boolean, a string, an integer or a list of strings' }
    default:
      return { path: at || '(root)', message: e.message ?? 'is invalid' }
  }
}

/** Parses and resolves a config; throws ConfigError listing every problem of the file at once. */
export function parseConfig (text: string, source = 'config', env: Env = {}): Config {
  let doc: unknown
  try {
    doc = yaml.load(text, { filename: source })
  } catch (err) {
    throw new ConfigError(`invalid YAML in ${source}`, [
      (err as Error).message.split('\n')[0] ?? 'parse error',
    ])
  }
  if (doc === undefined || doc === null) throw new ConfigError(`${source} is empty`)
  if (typeof doc !== 'object' || Array.isArray(doc)) { throw new ConfigError(`${source} must be a YAML mapping`) }

  const problems: Problem[] = []
  if (!validate(doc)) {
    for (const e of validate.errors ?? []) {
      // anyOf lists one error per branch before its own; the summary is enough
      if (e.schemaPath.includes('/anyOf/')) continue
      problems.push(describe(e))
    }
  }
  const config = resolveConfig(doc as FileConfig, problems)
  if (problems.length) {
    const byPath = (a: Problem, b: Problem) => a.path.localeCompare(b.path, 'en', { numeric: true })
    const lines = [...new Set(problems.sort(byPath).map((p) => `${p.path}: ${p.message}`))]
    throw new ConfigError(`invalid config ${source}:`, lines)
  }
  return applyEnv(config, env)
}

/** PORT, HOST, GLOBUS_AUTH_URL and GLOBUS_TRANSFER_URL override the file (DESIGN §2). */
export function applyEnv (config: Config, env: Env): Config {
  const port = env.PORT ? Number(env.PORT) : undefined
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw new ConfigError(`PORT must be an integer between 0 and 65535, got "${env.PORT}"`)
  }
  return {
    ...config,
    port: port ?? config.port,
    host: env.HOST || config.host,
    globus: {
      ...config.globus,
      authUrl: urlFromEnv(env, 'GLOBUS_AUTH_URL') ?? config.globus.authUrl,
      transferUrl: urlFromEnv(env, 'GLOBUS_TRANSFER_URL') ?? config.globus.transferUrl,
    },
  }
}

function urlFromEnv (env: Env, name: string): string | undefined {
  const value = env[name]
  if (!value) return undefined
  if (!/^https?:\/\/[^/]+/.test(value) || !URL.canParse(value)) {
    throw new ConfigError(`${name} must be an http(s) URL such as https://auth.globus.org, got "${value}"`)
  }
  return sanitizeUrl(value)
}

export function loadConfig (options: { flag?: string; env: Env; cwd: string }): {
  path: string
  config: Config
} {
  const { path, text } = readConfigText(configCandidates(options))
  return { path, config: parseConfig(text, path, options.env) }
}

export { directions }
