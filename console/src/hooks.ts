import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, api, currentKeyGeneration, isKeyWanted, onKeyChange } from './api.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | Error | undefined;
  loading: boolean;
  reload: () => void;
}

/** The key's generation and whether the API wants one; re-renders when either changes. */
export function useKeyState(): { generation: number; wanted: boolean } {
  const [state, setState] = useState({ generation: currentKeyGeneration(), wanted: isKeyWanted() });
  useEffect(() => onKeyChange(() => setState({ generation: currentKeyGeneration(), wanted: isKeyWanted() })), []);
  return state;
}

/** GETs `path` (nothing when null), again on `reload()` and whenever the API key changes. */
export function useApi<T>(path: string | null): Loaded<T> {
  const { generation } = useKeyState();
  const [tick, setTick] = useState(0);
  const [state, setState] = useState<{ data?: T; error?: ApiError | Error; loading: boolean }>({ loading: true });
  useEffect(() => {
    if (path === null) return;
    let current = true;
    setState((previous) => ({ ...previous, loading: true }));
    api<T>('GET', path).then(
      (data) => current && setState({ data, loading: false }),
      (error: unknown) =>
        current && setState({ error: error instanceof Error ? error : new Error(String(error)), loading: false }),
    );
    return () => {
      current = false;
    };
  }, [path, tick, generation]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

/** The page's route: the URL fragment after `#`, e.g. `/hooks/<id>`. */
export function useRoute(): string {
  const read = () => location.hash.replace(/^#/, '') || '/hooks';
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const changed = () => setRoute(read());
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return route;
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}
