// Typing of CSV cells by the declared schema (parsing itself is csv-parse's, in adapters/csvFiles.ts).
import type { Cell } from './features';
import type { ColumnType } from './modelConfig';

/** NumPy/pandas spellings of the non-finite floats (lower-cased), which JavaScript's Number() does not read. */
const NON_FINITE: Record<string, number> = {
  nan: Number.NaN,
  inf: Infinity,
  '+inf': Infinity,
  '-inf': -Infinity,
  infinity: Infinity,
  '+infinity': Infinity,
  '-infinity': -Infinity,
};

/**
 * A CSV number: JavaScript's number syntax (`12`, `-1.5e3`, `Infinity`) or a NumPy/pandas spelling of NaN or ±inf
 * (any case); undefined for anything else, a blank cell included.
 */
export function parseNumber(raw: string): number | undefined {
  const text = raw.trim();
  if (text === '') return undefined;
  const special = NON_FINITE[text.toLowerCase()];
  if (special !== undefined) return special;
  const n = Number(text);
  return Number.isNaN(n) ? undefined : n;
}

/** Types a CSV cell by the column's declared type; a cell that does not parse stays a string so validation names it. */
export function typeCell(raw: string, type: ColumnType | undefined): Cell {
  if (raw === '') return null;
  switch (type) {
    case 'integer':
    case 'number': {
      const n = parseNumber(raw);
      return n === undefined ? raw : n;
    }
    case 'timestamp': {
      const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(raw) ? raw : `${raw}Z`);
      return Number.isNaN(t) ? raw : t;
    }
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    default:
      return raw;
  }
}
