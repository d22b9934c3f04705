// What every part of a tracker cycle that writes jobs is handed: config, log, the tracked set, the queue, the writer, the write gate and the clock.
import type { Logger } from 'pino'
import type { Config } from '../config/resolve.js'
import type { CapacityQueue } from './capacity-queue.js'
import type { JobWriter } from './job-writer.js'
import type { TrackedTransfers } from './tracked-transfers.js'
import type { WriteGate } from './write-gate.js'

export interface CycleParts {
  config: Config
  log: Logger
  tracked: TrackedTransfers
  capacity: CapacityQueue
  writer: JobWriter
  canWrite: WriteGate
  now: () => number
}
