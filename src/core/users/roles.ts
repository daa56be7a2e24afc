/**
 * The three roles. An admin does everything (channels, secrets, workstreams, users); a supervisor
 * sees and steers all queues and conversations but neither secrets nor users; an agent works the
 * conversations offered or assigned to them and their own presence and profile.
 */
export const ROLES = ['admin', 'supervisor', 'agent'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
