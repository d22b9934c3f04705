// The pino logger: JSON lines, level from LOG_LEVEL, secrets redacted wherever they appear.
import { type DestinationStream, type Logger, pino } from 'pino'

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

export function createLogger (level = 'info', destination?: DestinationStream): Logger {
  return pino({ level, redact: { paths: redactPaths, censor: '[redacted]' } }, destination)
}
