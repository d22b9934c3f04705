// `npm run bench [-- tracker submit startup fair-order answer-pace call-cost] [--strict]`: runs the benchmarks and sums up their targets.
import { answerPaceBench } from './answer-pace.js'
import { callCostBench } from './call-cost.js'
import { fairOrderBench } from './fair-order.js'
import { machine, printTargets, type Target } from './lib/report.js'
import { fileListBench } from './filelist.js'
import { scaleBench } from './scale.js'
import { scalingBench } from './scaling.js'
import { startupBench } from './startup.js'
import { submitBench } from './submit.js'
import { trackerBench } from './tracker.js'

const benchmarks: Record<string, () => Promise<Target[]>> = {
  tracker: () => trackerBench(),
  submit: () => submitBench(),
  startup: () => startupBench(),
  filelist: () => fileListBench(),
  scale: () => scaleBench(),
  scaling: () => scalingBench(),
  'fair-order': () => fairOrderBench(),
  'answer-pace': () => answerPaceBench(),
  'call-cost': () => callCostBench(),
}

const args = process.argv.slice(2)
const strict = args.includes('--strict')
const chosen = args.filter((a) => !a.startsWith('--'))
const unknown = chosen.filter((name) => !benchmarks[name])
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(benchmarks).join(', ')}`)
  process.exit(2)
}

const m = machine()
console.log(`machine: ${m.nproc} CPUs (${m.cpu}), ${m.memoryGb} GB, Node ${m.node}, ${m.platform}`)
const targets: Target[] = []
for (const name of chosen.length ? chosen : Object.keys(benchmarks)) {
  const started = performance.now()
  targets.push(...(await benchmarks[name]!()))
  console.error(`${name}: ${Math.round((performance.now() - started) / 1000)} s`)
}
console.log('\n## targets\n')
printTargets(targets)
const failed = targets.filter((t) => !t.pass).length
console.log(`\n${targets.length - failed} of ${targets.length} targets met`)
if (strict && failed) process.exitCode = 1
