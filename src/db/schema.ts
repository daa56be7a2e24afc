import type { ColumnType, Generated } from 'kysely';

/**
 * Row types of every table, as Kysely sees them. Each migration that adds or changes a table
 * updates its interface here.
 */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T = unknown> = ColumnType<T, string | undefined, string>;

export interface JobsTable {
  id: Generated<number>;
  queue: string;
  payload: Json;
  state: ColumnType<'ready' | 'running' | 'dead', 'ready' | undefined, 'ready' | 'running' | 'dead'>;
  run_at: Timestamp;
  attempts: Generated<number>;
  max_attempts: Generated<number>;
  group_key: string | null;
  singleton_key: string | null;
  locked_by: string | null;
  locked_until: Date | null;
  last_error: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface DB {
  jobs: JobsTable;
}
