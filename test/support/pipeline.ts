import { expect } from 'vitest';
import { type Receiver, startReceiver } from './receiver.ts';
import type { TestRuntime } from './runtime.ts';

/** A hook as `POST /event-hooks` answered it (its config with the secret it stored or made). */
export interface CreatedHook {
  id: string;
  config: { secret: string };
}

/**
 * What a pipeline test does through the local runtime: open receivers, create hooks and emit events
 * through the Admin API (checking they were taken), and wait until every event and delivery settled.
 * `cleanUp` goes in `afterEach`: it settles, then closes the receivers the test opened.
 */
export function pipelineSteps(runtime: () => TestRuntime) {
  const receivers: Receiver[] = [];
  const settle = async () => {
    const { app, bus, queue } = runtime().runtime;
    await app.settled();
    await bus.idle();
    await queue.idle();
  };
  return {
    async receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
      const r = await startReceiver(...args);
      receivers.push(r);
      return r;
    },
    async hook(body: Record<string, unknown>): Promise<CreatedHook> {
      const res = await runtime().request('POST', '/event-hooks', body);
      expect(res.status, res.text).toBe(201);
      return res.body as CreatedHook;
    },
    async emit(source: string, event: string, data: Record<string, unknown>): Promise<{ id: string }> {
      const res = await runtime().request('POST', '/events', { source, event, data });
      expect(res.status).toBe(202);
      return res.body.data[0] as { id: string };
    },
    settle,
    /** Deletes every hook once all settled: hooks aimed at receivers a test closed would take later tests' events. */
    async deleteHooks(): Promise<void> {
      await settle();
      const all = (await runtime().request('GET', '/event-hooks?size=1000')).body.data as { id: string }[];
      for (const { id } of all) await runtime().request('DELETE', `/event-hooks/${id}`);
    },
    async cleanUp(): Promise<void> {
      await settle();
      for (const r of receivers.splice(0)) await r.close();
    },
  };
}
