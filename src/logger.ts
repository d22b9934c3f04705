// The pino logger: JSON lines, level from LOG_LEVEL, secrets redacted wherever they appear.
import { type DestinationStream, type Logger, pino } from 'pino'
import { ConfigError } from './config/loader.js'

/** Never logged: SciCat and Globus tokens, passwords, client secrets (DESIGN §8). */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers["scicat-api-key"]',
  'headers.authorization',
  'headers["scicat-api-key"]',
  '*.authorization',
  '*["scicat-api-key"]',
  'access_token',
  '*.access_token',
  'password',
  '*.password',
  'client_secret',
  '*.client_secret',
  'token',
  '*.token',
]

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** The logger for LOG_LEVEL (default info); an unknown level is a configuration error. */
export function createLogger (level = 'info', destination?: DestinationStream): Logger {
  if (!(logLevels as readonly string[]).includes(level)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${logLevels.join(', ')}, got "${level}"`)
  }
  return pino({ level, redact: { paths: redactPaths, censor: '[redacted]' } }, destination)
}
