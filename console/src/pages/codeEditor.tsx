import type { HandlerFieldProps as Props } from './hookDraft.ts';

export function LambdaFields({ draft, set, errors }: Props) {
  const update = (index: number, code: string) =>
    set({ functions: draft.functions.map((value, i) => (i === index ? code : value)) });
  const functionErrors = Object.entries(errors).filter(([name]) => name.startsWith('config.functions'));
  return (
    <>
      {draft.functions.map((code, index) => (
        <div class="field" key={index}>
          <label for={`function-${index}`}>Function {index + 1} (JavaScript, or a Lambda name or ARN)</label>
          <textarea
            id={`function-${index}`}
            class="code"
            rows={10}
            spellcheck={false}
            autocapitalize="off"
            value={code}
            onInput={(event) => update(index, event.currentTarget.value)}
            onKeyDown={(event) => indentOnTab(event, (value) => update(index, value))}
          />
          <button
            type="button"
            onClick={() => set({ functions: draft.functions.filter((_, i) => i !== index) })}
            disabled={draft.functions.length === 1}
          >
            Remove function {index + 1}
          </button>
        </div>
      ))}
      <p class="hint">Tab indents inside the editor; Escape then Tab moves on.</p>
      {functionErrors.map(([name, message]) => (
        <p class="field-error" key={name}>
          {name}: {message}
        </p>
      ))}
      <button type="button" onClick={() => set({ functions: [...draft.functions, ''] })}>
        Add a function
      </button>
    </>
  );
}

/** Tab types two spaces in the code editor; after Escape it moves focus as usual (no keyboard trap). */
function indentOnTab(event: KeyboardEvent, update: (value: string) => void) {
  const area = event.currentTarget as HTMLTextAreaElement;
  if (event.key === 'Escape') {
    area.dataset.tabMoves = 'true';
    return;
  }
  if (event.key !== 'Tab' || event.shiftKey || area.dataset.tabMoves === 'true') {
    if (event.key !== 'Tab') delete area.dataset.tabMoves;
    return;
  }
  event.preventDefault();
  const { selectionStart, selectionEnd, value } = area;
  update(`${value.slice(0, selectionStart)}  ${value.slice(selectionEnd)}`);
  requestAnimationFrame(() => area.setSelectionRange(selectionStart + 2, selectionStart + 2));
}
