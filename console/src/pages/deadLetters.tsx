import { useState } from 'preact/hooks';
import { api, seg } from '../api.ts';
import { DataBlock, formatTime, loadState, PageTitle } from '../components.tsx';
import { useApi } from '../hooks.ts';

interface DeadLetter {
  id: string;
  delivery_id: string;
  hook_id: string;
  attempts: number;
  reason: string;
  dead_lettered_at: number;
  event: { id: string; source: string; event: string | null; data: unknown };
}

export function DeadLettersPage() {
  const letters = useApi<{ data: DeadLetter[] }>('/dead-letters?size=1000');
  const [progress, setProgress] = useState<{ done: number; failed: number; total: number } | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  const list = letters.data?.data ?? [];

  async function replay(id: string) {
    try {
      await api('POST', `/dead-letters/${seg(id)}/replay`);
      setMessage(`Dead letter ${id} queued again.`);
    } catch (error) {
      setMessage(`Replay of ${id} failed: ${(error as Error).message}`);
    }
    letters.reload();
  }

  /** One after the other, so the progress is honest and the API is not flooded. */
  async function replayAll() {
    const ids = list.map((letter) => letter.id);
    let done = 0;
    let failed = 0;
    setMessage(undefined);
    setProgress({ done, failed, total: ids.length });
    for (const id of ids) {
      try {
        await api('POST', `/dead-letters/${seg(id)}/replay`);
        done += 1;
      } catch {
        failed += 1;
      }
      setProgress({ done, failed, total: ids.length });
    }
    setMessage(`Replayed ${done} of ${ids.length}${failed ? `; ${failed} failed` : ''}.`);
    letters.reload();
  }

  const waiting = loadState(letters, 'Dead letters');
  return (
    <>
      <PageTitle>Dead letters</PageTitle>
      {waiting ?? (
        <>
          <p class="actions">
            <button
              type="button"
              onClick={replayAll}
              disabled={list.length === 0 || (progress && progress.done + progress.failed < progress.total)}
            >
              Replay all shown ({list.length})
            </button>
          </p>
          {progress && (
            <p>
              <label for="replay-progress">Replay progress</label>{' '}
              <progress id="replay-progress" max={progress.total} value={progress.done + progress.failed}>
                {progress.done + progress.failed} of {progress.total}
              </progress>{' '}
              {progress.done + progress.failed} of {progress.total}
            </p>
          )}
          <p role="status" class="note">
            {message ?? ''}
          </p>
          {list.length === 0 ? (
            <p class="note">No dead letters.</p>
          ) : (
            <table>
              <caption>Deliveries that failed for good</caption>
              <thead>
                <tr>
                  <th scope="col">Hook</th>
                  <th scope="col">Event</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Reason</th>
                  <th scope="col">When</th>
                  <th scope="col">Data</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {list.map((letter) => (
                  <tr key={letter.id}>
                    <td>
                      <a href={`#/hooks/${seg(letter.hook_id)}`}>{letter.hook_id.slice(0, 8)}</a>
                    </td>
                    <td>
                      {letter.event.source} / {letter.event.event ?? '—'}
                    </td>
                    <td>{letter.attempts}</td>
                    <td>{letter.reason}</td>
                    <td>{formatTime(letter.dead_lettered_at)}</td>
                    <td>
                      <DataBlock value={letter.event.data} label={`Data of dead letter ${letter.id}`} />
                    </td>
                    <td>
                      <button
                        type="button"
                        onClick={() => replay(letter.id)}
                        aria-label={`Replay dead letter ${letter.id}`}
                      >
                        Replay
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </>
  );
}
