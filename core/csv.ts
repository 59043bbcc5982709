// A small RFC 4180 CSV parser (quoted fields, doubled quotes, CRLF) and typing of cells by the declared schema.
import type { Cell } from './features';
import type { ColumnType } from './modelConfig';

export function parseCsv(text: string): { header: string[]; rows: string[][] } {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inQuotes) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') inQuotes = false;
      else field += c;
    } else if (c === '"' && field === '') inQuotes = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
    } else field += c;
  }
  if (inQuotes) throw new Error('unterminated quoted field at end of CSV');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  const header = rows.shift();
  if (!header) throw new Error('CSV is empty (no header row)');
  return { header, rows };
}

/** Types a CSV cell by the column's declared type; a cell that does not parse stays a string so validation names it. */
export function typeCell(raw: string, type: ColumnType | undefined): Cell {
  if (raw === '') return null;
  switch (type) {
    case 'integer':
    case 'number': {
      const n = Number(raw);
      return Number.isNaN(n) ? raw : n;
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
