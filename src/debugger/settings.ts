// Reading the debugger's var. Pure.

import {
  DEBUGGER_ARM_DEFAULT_SECONDS,
  DEBUGGER_ARM_MAX_SECONDS,
  DEBUGGER_ARM_MIN_SECONDS,
} from './limits';

/** DEBUGGER_ARM_SECONDS: whole seconds within the bounds; anything else is the default. */
export function armSeconds(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEBUGGER_ARM_DEFAULT_SECONDS;
  const n = Number(value);
  return Number.isInteger(n) && n >= DEBUGGER_ARM_MIN_SECONDS && n <= DEBUGGER_ARM_MAX_SECONDS
    ? n
    : DEBUGGER_ARM_DEFAULT_SECONDS;
}
