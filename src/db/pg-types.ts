import pg from 'pg';

/**
 * The one place where database values become JavaScript values, so results are the same on
 * PostgreSQL and on embedded PostgreSQL: 64-bit integers (ids, counts) become numbers (our
 * counters stay far below 2^53), numerics become numbers, timestamps stay Date objects.
 */
const INT8 = 20;
const NUMERIC = 1700;

const parsers: Record<number, (value: string) => unknown> = {
  [INT8]: (value) => Number(value),
  [NUMERIC]: (value) => Number(value),
};

export const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    const own = parsers[oid];
    if (own && format !== 'binary') return own;
    return (pg.types.getTypeParser as (oid: number, format?: string) => (value: string) => unknown)(oid, format);
  },
} as pg.CustomTypesConfig;
