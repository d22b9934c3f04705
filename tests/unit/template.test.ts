import { describe, expect, it } from 'vitest'
import { labelVariables, pathVariables } from '../../src/config/resolve.js'
import { compileTemplate, TemplateError } from '../../src/config/template.js'

const name = ['Name'] as const

describe('Go-template subset', () => {
  it("renders the Go repository's own cases", () => {
    expect(compileTemplate('Name: {{ .Name }}', name).render({ Name: 'Tintin' })).toBe(
      'Name: Tintin'
    )
    expect(
      compileTemplate('Name: {{ replace .Name "in" "om" }}', name).render({ Name: 'Tintin' })
    ).toBe('Name: Tomtom')
  })

  it('accepts fields with and without spaces', () => {
    expect(
      compileTemplate('{{.Name}}-{{ .Name }}-{{   .Name   }}', name).render({ Name: 'x' })
    ).toBe('x-x-x')
  })

  it('renders every path and label variable', () => {
    const vars = Object.fromEntries(labelVariables.map((v) => [v, `<${v}>`]))
    for (const v of labelVariables) {
      expect(compileTemplate(`/a/{{ .${v} }}/b`, labelVariables).render(vars)).toBe(`/a/<${v}>/b`)
    }
    expect(pathVariables).toHaveLength(8)
  })

  it('trims whitespace with {{- and -}}', () => {
    const t = compileTemplate('a  \n {{- .Name -}} \t\n b', name)
    expect(t.render({ Name: 'X' })).toBe('aXb')
    expect(compileTemplate('a {{- .Name }} b', name).render({ Name: 'X' })).toBe('aX b')
    expect(compileTemplate('a {{ .Name -}} b', name).render({ Name: 'X' })).toBe('a Xb')
  })

  it('decodes Go string literal escapes', () => {
    const t = compileTemplate('{{ replace .Name "\\t" "\\x41\\u00e9\\101\\"\\\\" }}', name)
    expect(t.render({ Name: 'a\tb' })).toBe('aAéA"\\b')
    expect(compileTemplate('{{ `raw\\n` }}', name).render({ Name: '' })).toBe('raw\\n')
  })

  it('supports nested calls and pipes into replace', () => {
    const t = compileTemplate('{{ replace (replace .Name "." "-") "/" "_" }}', name)
    expect(t.render({ Name: '20.500/abc.d' })).toBe('20-500_abc-d')
    // as in Go, the piped value becomes the last argument: replace("." "-" "a.b") = "."
    expect(compileTemplate('{{ "a.b" | replace "." "-" }}', name).render({ Name: '' })).toBe('.')
    expect(compileTemplate('{{ "" | replace "a-b" "-" }}', name).render({ Name: '' })).toBe('ab')
  })

  it('keeps text without actions as is, including lone braces', () => {
    expect(compileTemplate('/data/}}/x{', name).render({ Name: '' })).toBe('/data/}}/x{')
  })

  it('skips comments', () => {
    expect(compileTemplate('a{{/* note */}}b{{- /* x */ -}} c', name).render({ Name: '' })).toBe(
      'abc'
    )
  })

  it('reports which variables a template uses', () => {
    expect(compileTemplate('{{ .Pid }}/{{ .Username }}', pathVariables).variables).toEqual([
      'Pid',
      'Username',
    ])
  })

  const rejects: Array<[string, RegExp]> = [
    ['{{ .Nope }}', /unknown variable \.Nope/],
    ['{{ nope .Name }}', /function "nope" not defined/],
    ['/x/{{ .Name', /unclosed action/],
    ['{{ "abc }}', /unterminated quoted string/],
    ['{{ replace .Name "a" }}', /wrong number of args for replace: want 3 got 2/],
    ['{{ if .Name }}x{{ end }}', /unsupported construct "if"/],
    ['{{ $x := 1 }}', /unsupported construct "\$"/],
    ['{{ .Name.Sub }}', /nested field/],
    ['{{ }}', /missing value for command/],
    ['{{ .Name "x" }}', /can't give argument to non-function/],
    ['{{ "\\q" }}', /unknown escape sequence/],
    ['{{ (.Name }}', /unclosed left paren/],
  ]
  it.each(rejects)('rejects %s at compile time', (source, message) => {
    expect(() => compileTemplate(source, name)).toThrow(TemplateError)
    expect(() => compileTemplate(source, name)).toThrow(message)
  })

  it('never throws when rendering a template that compiled, even with missing values', () => {
    const t = compileTemplate('{{ replace .Pid "/" "_" }}', pathVariables)
    expect(t.render({} as Record<string, string>)).toBe('')
  })
})
