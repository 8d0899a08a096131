// The roles of the operator tokens, as the audit trail records them (src/routes/roles.ts grants
// them). Pure: a type in the lower room, so src/audit/ never imports from src/routes/.

export type Role = 'admin' | 'viewer';
