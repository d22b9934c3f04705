import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config/loader.js'
import { createLogger } from '../../src/logger.js'

function capture (level = 'info') {
  const lines: string[] = []
  const sink = new Writable({
    write (chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean))
      done()
    },
  })
  return { logger: createLogger(level, sink), lines }
}

describe('logger', () => {
  it('redacts tokens, passwords and client secrets wherever they appear in a log entry', () => {
    const { logger, lines } = capture()
    logger.info(
      {
        req: { headers: { authorization: 'Bearer user-token-1', 'scicat-api-key': 'user-token-2', accept: 'x' } },
        headers: { authorization: 'Basic c2VjcmV0', 'scicat-api-key': 'user-token-3' },
        access_token: 'globus-token',
        password: 'service-password',
        client_secret: 'globus-secret',
        token: 'another-token',
        upstream: { access_token: 'nested-token', password: 'nested-password', client_secret: 'nested-secret', token: 't' },
      },
      'entry'
    )
    expect(lines).toHaveLength(1)
    const line = lines[0]!
    for (const secret of [
      'user-token-1',
      'user-token-2',
      'user-token-3',
      'c2VjcmV0',
      'globus-token',
      'service-password',
      'globus-secret',
      'another-token',
      'nested-token',
      'nested-password',
      'nested-secret',
    ]) {
      expect(line).not.toContain(secret)
    }
    const entry = JSON.parse(line)
    expect(entry.req.headers).toEqual({ authorization: '[redacted]', 'scicat-api-key': '[redacted]', accept: 'x' })
    expect(entry.upstream.token).toBe('[redacted]')
    expect(entry.msg).toBe('entry')
  })

  it('logs at the level asked for', () => {
    const { logger, lines } = capture('warn')
    logger.info('not shown')
    logger.warn('shown')
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['shown'])
    const debug = capture('debug')
    debug.logger.debug('details')
    expect(debug.lines).toHaveLength(1)
  })

  it('refuses an unknown LOG_LEVEL with a configuration error naming the choices', () => {
    expect(() => createLogger('verbose')).toThrow(ConfigError)
    expect(() => createLogger('verbose')).toThrow(/LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"/)
  })
})
