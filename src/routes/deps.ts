// The clock and id maker the routes hand to the pure core; tests pass fixed ones.

export interface AppDeps {
  /** Server clock, ms since the epoch. */
  now: () => number;
  /** A fresh messageId for events that lack one. */
  newId: () => string;
}

export const runtimeDeps: AppDeps = {
  now: () => Date.now(),
  newId: () => crypto.randomUUID(),
};
