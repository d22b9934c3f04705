import { describe, expect, it } from 'vitest'
import { describeConfig, formatConfig } from '../../src/config/describe.js'
import { ConfigError, parseConfig } from '../../src/config/loader.js'

const base = 'scicatUrl: http://s/\n'

describe('fair share config (globus.fairShare, globus.maxActiveTasksPerUser, facilities[].maxActiveTasks)', () => {
  it('defaults to fair share by user and no limits other than globus.maxActiveTasks', () => {
    const config = parseConfig(`${base}facilities: [{name: A, collection: c}, {name: B, collection: d}]\n`)
    expect(config.globus.fairShare).toBe('user')
    expect(config.globus.maxActiveTasksPerUser).toBeUndefined()
    expect(config.facilities.map((f) => f.maxActiveTasks)).toEqual([undefined, undefined])
    expect(describeConfig(config).capacity).toEqual({
      fairShare: 'user',
      maxActiveTasks: 100,
      maxActiveTasksPerUser: null,
      facilities: { A: null, B: null },
    })
    // a Go config's facilities are described exactly as before
    expect(describeConfig(config).facilities[0]).not.toHaveProperty('maxActiveTasks')
  })

  it('reads the policy and the limits; 0 means no limit', () => {
    const config = parseConfig(`${base}globus: {fairShare: group, maxActiveTasksPerUser: 5, maxActiveTasks: 20}
facilities: [{name: A, collection: c, maxActiveTasks: 2}, {name: B, collection: d, maxActiveTasks: 0}]
`)
    expect(config.globus).toMatchObject({ fairShare: 'group', maxActiveTasksPerUser: 5 })
    expect(config.facilities.map((f) => f.maxActiveTasks)).toEqual([2, undefined])
    const d = describeConfig(config)
    expect(d.capacity).toEqual({ fairShare: 'group', maxActiveTasks: 20, maxActiveTasksPerUser: 5, facilities: { A: 2, B: null } })
    expect(d.facilities[0]).toMatchObject({ name: 'A', maxActiveTasks: 2 })
    expect(formatConfig(config)).toContain(
      [
        'Globus capacity queue:',
        '  fairShare:             group (a free slot goes to the ownerGroup with the fewest unfinished tasks)',
        '  maxActiveTasks:        20',
        '  maxActiveTasksPerUser: 5',
        '  per facility:          A 2, B no limit',
      ].join('\n')
    )
    expect(parseConfig(`${base}globus: {fairShare: none, maxActiveTasksPerUser: 0}\nfacilities: [{name: A, collection: c}]\n`).globus)
      .toMatchObject({ fairShare: 'none' })
  })

  it('reports a bad policy or limit with its path', () => {
    let problems: string[] = []
    try {
      parseConfig(`${base}globus: {fairShare: fair, maxActiveTasksPerUser: 1.5}
facilities: [{name: A, collection: c, maxActiveTasks: -1}, {name: B, collection: d, maxActiveTasks: "2"}]
`, 'x.yaml')
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError)
      problems = (err as ConfigError).problems
    }
    expect(problems).toEqual([
      'facilities[0].maxActiveTasks: must be >= 0',
      'facilities[1].maxActiveTasks: must be integer',
      'globus.fairShare: must be one of user, group, none',
      'globus.maxActiveTasksPerUser: must be integer',
    ])
  })
})
