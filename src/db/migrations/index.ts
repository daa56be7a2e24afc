import type { Migration } from 'kysely/migration';
import * as jobs from './0001_jobs.ts';
import * as users from './0002_users.ts';

/** Every migration this version knows, in order. Names never change once released. */
export const migrations: Record<string, Migration> = {
  '0001_jobs': jobs,
  '0002_users': users,
};
