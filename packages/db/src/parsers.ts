// Text-format result parsers shared by both backends, so a row looks the same on PGlite and on PostgreSQL.
import pg from 'pg';

type Parse = (text: string) => unknown;

const OID = {
  int8: 20,
  int8Array: 1016,
  text: 25,
  textArray: 1009,
  timestamp: 1114,
  timestampArray: 1115,
  timestamptz: 1184,
  timestamptzArray: 1185,
  date: 1082,
  dateArray: 1182,
} as const;

// pg's typings only accept the TypeId enum; these are plain builtin oids.
const driverParser = pg.types.getTypeParser as (oid: number, format?: 'text' | 'binary') => (text: string) => unknown;
const parseTextArray = driverParser(OID.textArray, 'text') as (text: string) => (string | null)[];
const parseDateText = driverParser(OID.timestamptz, 'text');

/** int8 as a number while it is exact, otherwise as its decimal string. */
export function parseInt8(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

/** timestamptz as an ISO-8601 UTC string; 'infinity' and friends stay as Postgres wrote them. */
export function parseTimestamptz(text: string): string {
  const d = parseDateText(text);
  return d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : text;
}

const identity = (text: string): string => text;

function arrayOf(parse: Parse): Parse {
  return (text) => parseTextArray(text).map((v) => (v === null ? null : parse(v)));
}

/** Overrides keyed by type oid; every other type keeps the driver's default parser. */
export const resultParsers: Record<number, Parse> = {
  [OID.int8]: parseInt8,
  [OID.int8Array]: arrayOf(parseInt8),
  [OID.timestamptz]: parseTimestamptz,
  [OID.timestamptzArray]: arrayOf(parseTimestamptz),
  [OID.timestamp]: identity,
  [OID.timestampArray]: arrayOf(identity),
  [OID.date]: identity,
  [OID.dateArray]: arrayOf(identity),
};

/** A per-pool `types` option for node-postgres (no global type-parser mutation). */
export const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    const own = format === 'binary' ? undefined : resultParsers[oid];
    return own ?? driverParser(oid, format ?? 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};
