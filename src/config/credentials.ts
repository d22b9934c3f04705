// Secrets from the environment, each also readable from the file named by `<NAME>_FILE`.
import { readFileSync } from 'node:fs'
import { ConfigError } from './loader.js'

type Env = Readonly<Record<string, string | undefined>>

export interface Credentials {
  globus: { clientId: string; clientSecret: string }
  scicat: { username: string; password: string } | { token: string }
}

/** The value of NAME, or the contents of the file NAME_FILE (one trailing newline removed). */
export function secret (env: Env, name: string): string | undefined {
  const file = env[`${name}_FILE`]
  if (env[name] && file) throw new ConfigError(`set either ${name} or ${name}_FILE, not both`)
  if (file) {
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '')
    } catch (err) {
      throw new ConfigError(`cannot read ${name}_FILE (${file}): ${(err as Error).message}`)
    }
  }
  return env[name] || undefined
}

/** Names of the credential variables that are missing. */
export function missingCredentials (env: Env): string[] {
  const missing: string[] = []
  for (const name of ['GLOBUS_CLIENT_ID', 'GLOBUS_CLIENT_SECRET']) { if (!secret(env, name)) missing.push(name) }
  if (!secret(env, 'SCICAT_SERVICE_TOKEN')) {
    for (const name of ['SCICAT_SERVICE_USER_USERNAME', 'SCICAT_SERVICE_USER_PASSWORD']) {
      if (!secret(env, name)) missing.push(name)
    }
  }
  return missing
}

export function loadCredentials (env: Env): Credentials {
  const missing = missingCredentials(env)
  if (missing.length) {
    throw new ConfigError(
      `missing credentials: set ${missing.join(', ')} (or the same names with _FILE); SCICAT_SERVICE_TOKEN may replace the SciCat username and password`
    )
  }
  const token = secret(env, 'SCICAT_SERVICE_TOKEN')
  return {
    globus: {
      clientId: secret(env, 'GLOBUS_CLIENT_ID')!,
      clientSecret: secret(env, 'GLOBUS_CLIENT_SECRET')!,
    },
    scicat: token
      ? { token }
      : {
          username: secret(env, 'SCICAT_SERVICE_USER_USERNAME')!,
          password: secret(env, 'SCICAT_SERVICE_USER_PASSWORD')!,
        },
  }
}
