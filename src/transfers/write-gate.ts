// May this process write upstream now? The one predicate every submission, cancel and job write checks.

/**
 * Without high availability the answer is always yes; a leadership/fencing implementation
 * replaces it (an instance that may have lost its lease must not submit or PATCH).
 */
export type WriteGate = () => boolean

export const alwaysWrite: WriteGate = () => true

/** A write refused because the gate is closed: nothing was sent; the write is retried once it opens. */
export class WritesFenced extends Error {
  override name = 'WritesFenced'

  constructor (what: string) {
    super(`${what}: this instance may not write now`)
  }
}
