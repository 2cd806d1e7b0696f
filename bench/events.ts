import type { BenchClient } from './http.ts';

/** What the benchmarks send: Kong's `balancer`/`health` event, with a sequence number to match deliveries. */
export const SOURCE = 'balancer';
export const EVENT = 'health';

export function eventData(seq: number, health = 'HEALTHY'): Record<string, unknown> {
  return { upstream_id: 'b1e7c8a0-bench', ip: '10.0.0.7', port: 80, hostname: 'upstream.bench', health, seq };
}

/** The body `POST /events` takes. */
export function eventBody(seq: number): string {
  return JSON.stringify({ source: SOURCE, event: EVENT, data: eventData(seq) });
}

/** The body the webhook handler sends for that event (data with `event` and `source` added): the baseline's body. */
export function webhookBody(seq: number): string {
  return JSON.stringify({ ...eventData(seq), event: EVENT, source: SOURCE });
}

/** The `seq` of a delivered body, or -1. */
export function seqOf(body: Buffer): number {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { seq?: unknown };
    return typeof parsed.seq === 'number' ? parsed.seq : -1;
  } catch {
    return -1;
  }
}

/** Creates `count` webhook hooks on `balancer`/`health` pointing at `receiverUrl`; resolves with their ids. */
export async function createWebhookHooks(
  client: BenchClient,
  serviceUrl: string,
  receiverUrl: string,
  count: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await client.call('POST', `${serviceUrl}/event-hooks`, {
      source: SOURCE,
      event: EVENT,
      handler: 'webhook',
      config: { url: receiverUrl },
    });
    if (res.status !== 201) throw new Error(`creating a hook answered ${res.status}: ${res.text}`);
    ids.push((JSON.parse(res.text) as { id: string }).id);
  }
  return ids;
}
