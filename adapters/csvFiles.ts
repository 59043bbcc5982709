// CSV files through csv-parse (RFC 4180: quoted fields, doubled quotes, CRLF, a BOM), whole or streamed, with
// errors that name the file, the data row and the line: a ragged row is bad input, not a row of blanks.
import type { Readable } from 'node:stream';
import { CsvError, parse as parseStream, type Options } from 'csv-parse';
import { parse } from 'csv-parse/sync';

// Any of the three line ends, mixed within one file too (the first one seen is not taken for all).
const OPTIONS: Options = {
  bom: true,
  skip_empty_lines: true,
  relax_column_count: false,
  record_delimiter: ['\r\n', '\n', '\r'],
};

/** Why a CSV does not parse, in words that name the row (1 = the first row after the header) and the line. */
export function csvProblem(err: unknown): string {
  if (!(err instanceof CsvError)) return (err as Error).message;
  const e = err as CsvError & { records?: number; lines?: number };
  if (e.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH') {
    const [, expected, got] = /expect (\d+), got (\d+)/.exec(e.message) ?? [];
    return `row ${e.records} (line ${e.lines}) has ${got ?? 'another number of'} fields, the header has ${expected ?? 'a different number'}`;
  }
  if (e.code === 'CSV_QUOTE_NOT_CLOSED') return `unterminated quoted field (opened on line ${e.lines})`;
  return `${e.message.replace(/\.$/, '')}${e.lines ? ` (line ${e.lines})` : ''}`;
}

/** A whole CSV text: its header and rows (every row as long as the header). */
export function parseCsvText(text: string): { header: string[]; rows: string[][] } {
  const records: string[][] = parse(text, OPTIONS);
  const header = records.shift();
  if (!header) throw new Error('CSV is empty (no header row)');
  return { header, rows: records };
}

/**
 * A CSV's rows streamed in batches (the parser pauses while a batch is being used): each batch with the header,
 * at most `batchRows(header)` rows. Throws the parser's error (see csvProblem) at the first bad row.
 */
export async function* csvBatches(
  body: Readable,
  batchRows: (header: string[]) => number,
): AsyncGenerator<{ header: string[]; rows: string[][] }> {
  const parser = body.pipe(parseStream(OPTIONS));
  body.on('error', (err) => parser.destroy(err));
  let header: string[] | undefined;
  let size = 0;
  let rows: string[][] = [];
  for await (const record of parser as AsyncIterable<string[]>) {
    if (!header) {
      header = record;
      size = batchRows(header);
      continue;
    }
    rows.push(record);
    if (rows.length >= size) {
      yield { header, rows };
      rows = [];
    }
  }
  if (!header) throw new Error('CSV is empty (no header row)');
  if (rows.length > 0) yield { header, rows };
}
