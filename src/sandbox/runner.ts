// The sandbox: simulators plus the service on loopback.
export async function runSandbox (_options: {
  demo: boolean
  env: Readonly<Record<string, string | undefined>>
}): Promise<number> {
  process.stderr.write('the sandbox is not implemented yet\n')
  return 1
}
