#!/usr/bin/env node
// Command line: serve (default), check-config, sandbox, healthcheck.
import { parseArgs } from 'node:util'
import { missingCredentials } from './config/credentials.js'
import { describeConfig, formatConfig } from './config/describe.js'
import { ConfigError, loadConfig } from './config/loader.js'
import { hostPort } from './config/resolve.js'
import { version } from './version.js'

const usage = `Usage: scicat-globus-proxy [command] [options]

Commands:
  serve                  start the service (default)
  check-config           load and validate the config, print it resolved
  sandbox                run the service against built-in Globus and SciCat simulators
  healthcheck            exit 0 when the service of this config answers /health (Docker)

Options:
  --config FILE          config file (else $SCICAT_GLOBUS_PROXY_CONFIG,
                         ./scicat-globus-proxy-config.yaml, then the user config dir)
  --json                 check-config: print the resolved config as JSON only
  --demo                 sandbox: submit one transfer, show its progress, exit
  -h, --help             show this help
  -v, --version          show the version

Environment: GLOBUS_CLIENT_ID, GLOBUS_CLIENT_SECRET, SCICAT_SERVICE_USER_USERNAME,
SCICAT_SERVICE_USER_PASSWORD, SCICAT_SERVICE_TOKEN (each also as NAME_FILE), PORT, HOST,
LOG_LEVEL, GLOBUS_AUTH_URL, GLOBUS_TRANSFER_URL. See the README.`

class UsageError extends Error {}

async function main (argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const { values, positionals } = parsed
  if (values.help) {
    process.stdout.write(`${usage}\n`)
    return 0
  }
  if (values.version) {
    process.stdout.write(`${version}\n`)
    return 0
  }
  const [command = 'serve', ...rest] = positionals
  if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`)
  const only = (cmd: string, flag: 'json' | 'demo') => {
    if (values[flag] && command !== cmd) throw new UsageError(`--${flag} only applies to ${cmd}`)
  }
  only('check-config', 'json')
  only('sandbox', 'demo')

  switch (command) {
    case 'check-config': {
      const { path, config } = loadConfig({
        flag: values.config,
        env: process.env,
        cwd: process.cwd(),
      })
      const missing = missingCredentials(process.env)
      if (missing.length) { process.stderr.write(`warning: not set (needed by serve): ${missing.join(', ')}\n`) }
      if (values.json) process.stdout.write(`${JSON.stringify(describeConfig(config), null, 2)}\n`)
      else process.stdout.write(`config: ${path}\n${formatConfig(config)}\n`)
      return 0
    }
    case 'serve': {
      const { serve } = await import('./server.js')
      return serve({ configFlag: values.config, env: process.env, cwd: process.cwd() })
    }
    case 'healthcheck': {
      const { config } = loadConfig({ flag: values.config, env: process.env, cwd: process.cwd() })
      // a service listening on every interface is asked on loopback
      const host = ['0.0.0.0', '::', ''].includes(config.host) ? '127.0.0.1' : config.host
      const url = `http://${hostPort(host, config.port)}/health`
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(4000) })
        if (res.ok) return 0
        process.stderr.write(`unhealthy: ${url} answered ${res.status}\n`)
      } catch (err) {
        process.stderr.write(`unhealthy: ${url}: ${(err as Error).message}\n`)
      }
      return 1
    }
    case 'sandbox': {
      const { runSandbox } = await import('./sandbox/runner.js')
      return runSandbox({ demo: values.demo ?? false, env: process.env })
    }
    default:
      throw new UsageError(`unknown command "${command}"`)
  }
}

function parse (argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      json: { type: 'boolean' },
      demo: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  })
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    if (err instanceof UsageError) process.stderr.write(`error: ${err.message}\n\n${usage}\n`)
    else if (err instanceof ConfigError) process.stderr.write(`error: ${err.message}\n`)
    else {
      process.stderr.write(
        `error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`
      )
    }
    process.exitCode = 1
  }
)
