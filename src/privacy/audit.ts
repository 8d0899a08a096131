// The one call each privacy admin change makes to the audit trail (issue #22 builds it in
// src/audit/): which change, by which role, on which source; never an id or a policy's values.
// Until that trail exists here, the change goes to `privacyAuditSink`, which does nothing unless
// replaced (tests replace it). Adapter.

import type { Env } from '../env';

export type PrivacyAction =
  'privacy.policy.put' | 'privacy.policy.delete' | 'suppressions.add' | 'suppressions.remove';

export interface PrivacyChange {
  action: PrivacyAction;
  /** The role the change was made with: ADMIN_TOKEN's, the only one these routes accept. */
  role: 'admin';
  source: string;
  /** The policy version saved or deleted. */
  version?: string;
  /** Ids in the call, and how many of them changed the set (counts only). */
  ids?: number;
  changed?: number;
}

export type PrivacyAuditSink = (env: Env, change: PrivacyChange) => void | Promise<void>;

/** Where changes go; replaced by the audit trail's recorder when it is merged (issue #22). */
export const privacyAudit: { sink: PrivacyAuditSink } = { sink: () => undefined };

/** Records one privacy admin change (each admin handler calls this once, after the change). */
export async function recordPrivacyChange(env: Env, change: PrivacyChange): Promise<void> {
  await privacyAudit.sink(env, change);
}
