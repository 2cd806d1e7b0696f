import type { DeadLetter, DeliveryJob } from '../../ports/deliveryQueue.ts';
import { type Message, MessageHeap } from './messageHeap.ts';

/** A message as persistence keeps it. */
export interface PendingEntry {
  job: DeliveryJob;
  receiveCount: number;
  /** Epoch ms from which it may be received. */
  visibleAt: number;
}

/**
 * What changed in the queue, in the order it happened: enough for a journal to rebuild the pending
 * messages and kept dead letters. A job's `deliveryId` repeats across its attempts, so a record
 * names the job itself.
 */
export type QueueChange =
  | { type: 'sent'; entries: PendingEntry[] }
  | { type: 'received'; job: DeliveryJob; receiveCount: number }
  /** The message is gone: acknowledged, or dead-lettered (the dead letter is recorded apart if kept). */
  | { type: 'removed'; job: DeliveryJob; why: 'acknowledged' | 'dead-lettered' }
  /** A dead letter the queue keeps because it could not hand it over. */
  | { type: 'dead-letter-kept'; entry: DeadLetter }
  /** Kept dead letters taken out to be handed over again. */
  | { type: 'dead-letters-taken'; entries: DeadLetter[] };

export interface QueueModelOptions {
  /** How long a received message stays invisible unless its receive says otherwise (SQS visibility timeout). */
  visibilityTimeoutMs: number;
  /** Receives without an acknowledgement after which a message is dead-lettered (SQS redrive policy). */
  maxReceiveCount: number;
  /** Messages of one group (one tenant's hook) in flight at once. */
  maxInFlightPerGroup: number;
  /**
   * Messages of one tenant in flight at once, over all its hooks (its `deliveries_in_flight` quota),
   * asked on each receive so a changed quota applies at once; no cap when absent.
   */
  maxInFlightPerTenant?: (tenant: string) => number;
  /** Every change, as it happens. */
  record?: (change: QueueChange) => void;
}

export interface Received {
  receipt: number;
  job: DeliveryJob;
  receiveCount: number;
}

/** What a release or an expired visibility did with the message. */
export type Released =
  | { outcome: 'visible'; job: DeliveryJob; receiveCount: number }
  | { outcome: 'dead-lettered'; job: DeliveryJob; receiveCount: number; deadLetter: DeadLetter };

/** One hook's visible messages (FIFO) and how many of its messages are in flight. */
interface Group {
  key: string;
  tenant: string;
  ready: Message[];
  /** Index of the first message in `ready`, so a receive does not shift the array. */
  head: number;
  inFlight: number;
  /** Whether the group is in the ring of groups that can be received from. */
  listed: boolean;
}

interface InFlight {
  message: Message;
  group: Group;
  deadline: number;
}

/** Hooks are isolated per tenant: the same hook id in two tenants is two groups. */
export const groupOf = (job: DeliveryJob): string => `${job.tenant}\u0000${job.hookId}`;

/**
 * The local delivery queue's state and rules, with no I/O and no timers: every method is given the
 * time. SQS's semantics (delays, visibility timeout, receive count ending in a dead letter) plus a
 * cap on messages in flight per hook. Visible messages wait in one FIFO per hook, and receives take
 * the hooks in turn, skipping a hook at its cap, so a saturated hook never blocks another's messages
 * queued behind its own (no head-of-line blocking).
 */
export class QueueModel {
  private readonly groups = new Map<string, Group>();
  /** Groups with a visible message and room under their cap, in turn order; `ringHead` as for `ready`. */
  private ring: Group[] = [];
  private ringHead = 0;
  private readonly delayed = new MessageHeap();
  private readonly inFlight = new Map<number, InFlight>();
  /** Messages in flight per tenant, kept only when tenants are capped. */
  private readonly tenantInFlight = new Map<string, number>();
  /** Groups passed over because their tenant was at its cap, listed again when one of its messages lands. */
  private readonly parked = new Map<string, Set<Group>>();
  private kept: DeadLetter[] = [];
  private visible = 0;
  private seq = 0;
  private receipts = 0;
  /** No in-flight deadline is earlier than this (it may be stale-early after an extension or an ack). */
  private earliestDeadline = Number.POSITIVE_INFINITY;

  constructor(private readonly options: QueueModelOptions) {}

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Messages accepted and not yet acknowledged: visible, delayed and in flight. */
  get size(): number {
    return this.visible + this.delayed.size + this.inFlight.size;
  }

  send(jobs: DeliveryJob[], now: number, delayMs = 0): void {
    const visibleAt = now + Math.max(0, delayMs);
    const entries = jobs.map((job) => ({ job, receiveCount: 0, visibleAt }));
    for (const entry of entries) this.enqueue(entry, now);
    this.options.record?.({ type: 'sent', entries });
  }

  /** Puts back what persistence kept, without recording it again. */
  restore(entries: PendingEntry[], deadLetters: DeadLetter[], now: number): void {
    for (const entry of entries) this.enqueue(entry, now);
    this.kept.push(...deadLetters);
  }

  /**
   * Makes delayed messages that are due visible, and takes back in-flight messages whose visibility
   * timeout has passed (visible again, or dead-lettered when received too often).
   */
  tick(now: number, why = 'visibility timeout passed'): Released[] {
    for (let top = this.delayed.peek(); top && top.visibleAt <= now; top = this.delayed.peek()) {
      this.makeVisible(this.delayed.pop() as Message);
    }
    const expired: Released[] = [];
    if (now < this.earliestDeadline) return expired;
    let earliest = Number.POSITIVE_INFINITY;
    for (const [receipt, entry] of this.inFlight) {
      if (entry.deadline <= now) expired.push(this.takeBack(receipt, entry, now, why));
      else earliest = Math.min(earliest, entry.deadline);
    }
    this.earliestDeadline = earliest;
    return expired;
  }

  /**
   * The next visible message whose hook is under its cap, or undefined. It stays invisible for
   * `invisibleForMs` (the visibility timeout by default) unless acknowledged or released first.
   */
  receive(now: number, invisibleForMs = this.options.visibilityTimeoutMs): Received | undefined {
    const group = this.nextGroup() ?? (this.unparkRaised() ? this.nextGroup() : undefined);
    if (!group) return undefined;
    const message = group.ready[group.head] as Message;
    group.ready[group.head++] = undefined as unknown as Message;
    compact(group);
    this.visible -= 1;
    group.inFlight += 1;
    if (this.options.maxInFlightPerTenant) {
      this.tenantInFlight.set(group.tenant, (this.tenantInFlight.get(group.tenant) ?? 0) + 1);
    }
    message.receiveCount += 1;
    if (group.head < group.ready.length && group.inFlight < this.options.maxInFlightPerGroup) this.list(group);
    const receipt = this.receipts++;
    const deadline = now + invisibleForMs;
    this.inFlight.set(receipt, { message, group, deadline });
    this.earliestDeadline = Math.min(this.earliestDeadline, deadline);
    this.options.record?.({ type: 'received', job: message.job, receiveCount: message.receiveCount });
    return { receipt, job: message.job, receiveCount: message.receiveCount };
  }

  /** Deletes a received message; false when the receipt is no longer valid (its visibility passed). */
  ack(receipt: number): boolean {
    const entry = this.inFlight.get(receipt);
    if (!entry) return false;
    this.leaveFlight(receipt, entry);
    this.options.record?.({ type: 'removed', job: entry.message.job, why: 'acknowledged' });
    return true;
  }

  /** Makes a received message visible again at once (a crash), or dead-letters it; undefined for a stale receipt. */
  release(receipt: number, now: number, why: string): Released | undefined {
    const entry = this.inFlight.get(receipt);
    return entry ? this.takeBack(receipt, entry, now, why) : undefined;
  }

  /** Moves a received message's visibility deadline (SQS ChangeMessageVisibility); false for a stale receipt. */
  extend(receipt: number, deadline: number): boolean {
    const entry = this.inFlight.get(receipt);
    if (!entry) return false;
    entry.deadline = deadline;
    this.earliestDeadline = Math.min(this.earliestDeadline, deadline);
    return true;
  }

  /** When `tick` next has something to do: a delayed message falls due or a visibility timeout passes. */
  nextDueAt(): number {
    return Math.min(this.delayed.peek()?.visibleAt ?? Number.POSITIVE_INFINITY, this.earliestDeadline);
  }

  /** Keeps a dead letter that could not be handed over. */
  keepDeadLetter(entry: DeadLetter): void {
    this.kept.push(entry);
    this.options.record?.({ type: 'dead-letter-kept', entry });
  }

  /** The kept dead letters, left in place. */
  deadLetters(): DeadLetter[] {
    return [...this.kept];
  }

  /** Takes the kept dead letters out, to hand them over again. */
  takeDeadLetters(): DeadLetter[] {
    const entries = this.kept;
    this.kept = [];
    if (entries.length > 0) this.options.record?.({ type: 'dead-letters-taken', entries });
    return entries;
  }

  /** Everything accepted and not acknowledged, as persistence keeps it; a message due in the past is due now. */
  pending(now: number): PendingEntry[] {
    const entries: PendingEntry[] = [];
    const add = (m: Message) =>
      entries.push({ job: m.job, receiveCount: m.receiveCount, visibleAt: Math.max(m.visibleAt, now) });
    for (const { message } of this.inFlight.values()) add(message);
    for (const group of this.groups.values())
      for (let i = group.head; i < group.ready.length; i++) add(group.ready[i] as Message);
    for (const message of this.delayed.snapshot()) add(message);
    return entries;
  }

  /** Forgets every pending message (after the final flush at stop); kept dead letters stay. */
  clear(): void {
    this.groups.clear();
    this.ring = [];
    this.ringHead = 0;
    this.delayed.drain();
    this.inFlight.clear();
    this.tenantInFlight.clear();
    this.parked.clear();
    this.visible = 0;
    this.earliestDeadline = Number.POSITIVE_INFINITY;
  }

  private enqueue(entry: PendingEntry, now: number): void {
    const message: Message = {
      job: entry.job,
      receiveCount: entry.receiveCount,
      visibleAt: entry.visibleAt,
      seq: this.seq++,
    };
    if (message.visibleAt > now) this.delayed.push(message);
    else this.makeVisible(message);
  }

  private makeVisible(message: Message): void {
    const key = groupOf(message.job);
    let group = this.groups.get(key);
    if (!group) {
      group = { key, tenant: message.job.tenant, ready: [], head: 0, inFlight: 0, listed: false };
      this.groups.set(key, group);
    }
    group.ready.push(message);
    this.visible += 1;
    if (group.inFlight < this.options.maxInFlightPerGroup) this.list(group);
  }

  private takeBack(receipt: number, entry: InFlight, now: number, why: string): Released {
    this.leaveFlight(receipt, entry);
    const { message } = entry;
    const { job, receiveCount } = message;
    if (receiveCount >= this.options.maxReceiveCount) {
      this.options.record?.({ type: 'removed', job, why: 'dead-lettered' });
      const deadLetter: DeadLetter = {
        job,
        reason: `received ${receiveCount} times without acknowledgement (last: ${why})`,
        deadLetteredAt: now,
      };
      return { outcome: 'dead-lettered', job, receiveCount, deadLetter };
    }
    message.visibleAt = now;
    this.makeVisible(message);
    return { outcome: 'visible', job, receiveCount };
  }

  private leaveFlight(receipt: number, entry: InFlight): void {
    this.inFlight.delete(receipt);
    const { group } = entry;
    group.inFlight -= 1;
    if (this.options.maxInFlightPerTenant) this.tenantLanded(group.tenant);
    if (group.head < group.ready.length) this.list(group);
    else if (group.inFlight === 0 && !group.listed) this.groups.delete(group.key);
  }

  private list(group: Group): void {
    if (group.listed) return;
    group.listed = true;
    this.ring.push(group);
  }

  /** Whether the tenant has as many messages in flight as its cap allows. */
  private tenantFull(tenant: string): boolean {
    const cap = this.options.maxInFlightPerTenant?.(tenant);
    return cap !== undefined && (this.tenantInFlight.get(tenant) ?? 0) >= cap;
  }

  private park(group: Group): void {
    let groups = this.parked.get(group.tenant);
    if (!groups) {
      groups = new Set();
      this.parked.set(group.tenant, groups);
    }
    groups.add(group);
  }

  /** One of the tenant's messages left flight: its parked groups take their turns again. */
  private tenantLanded(tenant: string): void {
    const count = (this.tenantInFlight.get(tenant) ?? 1) - 1;
    if (count > 0) this.tenantInFlight.set(tenant, count);
    else this.tenantInFlight.delete(tenant);
    const groups = this.parked.get(tenant);
    if (!groups || this.tenantFull(tenant)) return;
    this.parked.delete(tenant);
    for (const group of groups) this.list(group);
  }

  /** Lists again the parked groups of tenants whose cap was raised meanwhile; whether there were any. */
  private unparkRaised(): boolean {
    let listed = false;
    for (const [tenant, groups] of this.parked) {
      if (this.tenantFull(tenant)) continue;
      this.parked.delete(tenant);
      for (const group of groups) this.list(group);
      listed = true;
    }
    return listed;
  }

  /** Takes the next group in turn that has a visible message and room; a group is listed at most once. */
  private nextGroup(): Group | undefined {
    while (this.ringHead < this.ring.length) {
      const group = this.ring[this.ringHead] as Group;
      this.ring[this.ringHead++] = undefined as unknown as Group;
      group.listed = false;
      if (this.ringHead === this.ring.length) {
        this.ring = [];
        this.ringHead = 0;
      } else if (this.ringHead > 1024 && this.ringHead * 2 > this.ring.length) {
        this.ring = this.ring.slice(this.ringHead);
        this.ringHead = 0;
      }
      if (group.head < group.ready.length && group.inFlight < this.options.maxInFlightPerGroup) {
        if (!this.tenantFull(group.tenant)) return group;
        this.park(group);
        continue;
      }
      if (group.head >= group.ready.length && group.inFlight === 0) this.groups.delete(group.key);
    }
    return undefined;
  }
}

/** Drops the received prefix of a group's FIFO once it is empty or mostly consumed. */
function compact(group: Group): void {
  if (group.head === group.ready.length) {
    group.ready = [];
    group.head = 0;
  } else if (group.head > 1024 && group.head * 2 > group.ready.length) {
    group.ready = group.ready.slice(group.head);
    group.head = 0;
  }
}
