// For tests that provoke a failure the code logs on purpose: the log line is asserted instead
// of printed, so a passing run shows only what needs a reader's attention.
import { onTestFinished, vi } from 'vitest';

/** Captures console.error for the rest of this test; returns the spy to assert on. */
export function captureErrors() {
  const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  onTestFinished(() => spy.mockRestore());
  return spy;
}
