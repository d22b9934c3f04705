// A binary min-heap ordered by a comparison function: push and pop in O(log n).
export class MinHeap<T> {
  private readonly items: T[] = []

  /** `before(a, b)`: a comes out before b. */
  constructor (private readonly before: (a: T, b: T) => boolean) {}

  get size (): number {
    return this.items.length
  }

  push (item: T): void {
    const items = this.items
    let i = items.push(item) - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.before(item, items[parent]!)) break
      items[i] = items[parent]!
      i = parent
    }
    items[i] = item
  }

  /** The item that comes out next, left in the heap. */
  peek (): T | undefined {
    return this.items[0]
  }

  pop (): T | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (items.length > 0 && last !== undefined) this.sinkFromTop(last)
    return top
  }

  /**
   * After the top item changed so that it may come out later: moves it down to its place. One
   * pass where a pop and a push of the same item would take two.
   */
  topChanged (): void {
    const top = this.items[0]
    if (top !== undefined) this.sinkFromTop(top)
  }

  private sinkFromTop (item: T): void {
    const items = this.items
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      if (left >= items.length) break
      const right = left + 1
      const child = right < items.length && this.before(items[right]!, items[left]!) ? right : left
      if (!this.before(items[child]!, item)) break
      items[i] = items[child]!
      i = child
    }
    items[i] = item
  }
}
