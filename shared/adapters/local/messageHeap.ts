import type { DeliveryJob } from '../../ports/deliveryQueue.ts';

/** A job on the local queue with what SQS keeps beside a message. */
export interface Message {
  job: DeliveryJob;
  receiveCount: number;
  /** Epoch ms from which the message may be received. */
  visibleAt: number;
  /** Tie-break so messages due at the same time keep their send order. */
  seq: number;
}

/** Binary min-heap of messages by (visibleAt, seq). */
export class MessageHeap {
  private items: Message[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Message | undefined {
    return this.items[0];
  }

  push(message: Message): void {
    const items = this.items;
    items.push(message);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i] as Message, items[parent] as Message)) break;
      [items[i], items[parent]] = [items[parent] as Message, items[i] as Message];
      i = parent;
    }
  }

  pop(): Message | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    items[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < items.length && before(items[left] as Message, items[smallest] as Message)) smallest = left;
      if (right < items.length && before(items[right] as Message, items[smallest] as Message)) smallest = right;
      if (smallest === i) break;
      [items[i], items[smallest]] = [items[smallest] as Message, items[i] as Message];
      i = smallest;
    }
    return top;
  }

  /** A copy of everything, in no particular order; the heap is left as it is. */
  snapshot(): Message[] {
    return [...this.items];
  }

  /** Removes and returns everything, in no particular order. */
  drain(): Message[] {
    const all = this.items;
    this.items = [];
    return all;
  }
}

function before(a: Message, b: Message): boolean {
  return a.visibleAt < b.visibleAt || (a.visibleAt === b.visibleAt && a.seq < b.seq);
}
