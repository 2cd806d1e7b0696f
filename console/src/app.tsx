import { useState } from 'preact/hooks';
import { apiKey, forgetApiKey, saveApiKey } from './api.ts';
import { useKeyState, useRoute } from './hooks.ts';
import { DeadLettersPage } from './pages/deadLetters.tsx';
import { EventsPage } from './pages/events.tsx';
import { HookPage } from './pages/hook.tsx';
import { HookFormPage } from './pages/hookForm.tsx';
import { HooksPage } from './pages/hooks.tsx';
import { SourcesPage } from './pages/sources.tsx';

const NAV = [
  { href: '#/hooks', label: 'Hooks', section: 'hooks' },
  { href: '#/events', label: 'Events', section: 'events' },
  { href: '#/dead-letters', label: 'Dead letters', section: 'dead-letters' },
  { href: '#/sources', label: 'Sources', section: 'sources' },
];

/** The route's segments, each decoded (ids and names may hold any character). */
function segmentsOf(route: string): string[] {
  return route
    .split('/')
    .filter((part) => part.length > 0)
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    });
}

function Page({ parts, query }: { parts: string[]; query: URLSearchParams }) {
  const [section, id, action] = parts;
  if (section === 'hooks' && id === 'new') return <HookFormPage />;
  if (section === 'hooks' && id !== undefined && action === 'edit') return <HookFormPage id={id} />;
  if (section === 'hooks' && id !== undefined) return <HookPage id={id} />;
  if (section === 'events') return <EventsPage {...(id !== undefined ? { id } : {})} />;
  if (section === 'dead-letters') return <DeadLettersPage />;
  if (section === 'sources') return <SourcesPage />;
  return <HooksPage query={query} />;
}

/** Shown when the API answered 401: the key is kept in sessionStorage only, for this tab's session. */
function KeyPrompt({ wanted }: { wanted: boolean }) {
  const [key, setKey] = useState('');
  if (!wanted) return null;
  return (
    <section class="key-prompt" aria-labelledby="key-title">
      <h2 id="key-title">API key needed</h2>
      <p>This deployment asks for an API key. It is kept for this browser tab only and sent as a bearer token.</p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          saveApiKey(key.trim());
          setKey('');
        }}
      >
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autocomplete="off"
          value={key}
          onInput={(event) => setKey(event.currentTarget.value)}
        />
        <button type="submit">Use this key</button>
      </form>
    </section>
  );
}

export function App() {
  const route = useRoute();
  const { wanted } = useKeyState();
  const [path = '', search = ''] = route.split('?');
  const parts = segmentsOf(path);
  const section = parts[0] ?? 'hooks';
  return (
    <>
      <button type="button" class="skip" onClick={skipToMain}>
        Skip to content
      </button>
      <header class="top">
        <p class="brand">event-hooks</p>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.href}>
                <a href={item.href} aria-current={section === item.section ? 'page' : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        {apiKey() !== undefined && (
          <button type="button" class="link" onClick={forgetApiKey}>
            Forget API key
          </button>
        )}
      </header>
      <KeyPrompt wanted={wanted} />
      <main id="main-content" tabIndex={-1}>
        <Page key={path} parts={parts} query={new URLSearchParams(search)} />
      </main>
    </>
  );
}

/** The fragment routes pages, so the skip control moves focus itself rather than linking to an anchor. */
function skipToMain() {
  document.getElementById('main-content')?.focus();
}
