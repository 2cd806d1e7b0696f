import type { ChildProcess } from 'node:child_process';

/**
 * Collects a runtime child's output and waits until `${url}/health` answers. Fails with the output
 * so far if the child exits first or 60 s pass. `what` names the child in those errors.
 * Resolves with the output as it grows.
 */
export async function untilHealthy(child: ChildProcess, url: string, what: string): Promise<() => string> {
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited: ${output}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return () => output;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not answer /health: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
