// Reading a data window in bounded memory: the window is planned into parts (a file, or a run of a Parquet file's
// row groups), each pinned to the ETag its file had when planned, and a part is read in batches: Parquet one row
// group (and as many columns as the budget holds) at a time by ranged GETs, CSV streamed through csv-parse.
import { parquetMetadataAsync, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { z } from 'zod';
import { typeCell } from '../core/csv';
import type { CodedCategories } from '../core/drift/categories';
import type { Columns } from '../core/features';
import type { ColumnType } from '../core/modelConfig';
import { csvBatches, csvProblem } from './csvFiles';
import { UnreadableDatasetError } from './datasetFiles';
import { isStoreFailure, type ObjectStore } from './objectStore';
import { type ParquetRows, readParquetRows } from './parquetColumns';

/** Decoded bytes a cell costs while a batch is held (the decoded column, our cells, the derived feature). */
const BYTES_PER_CELL = 40;

export const WindowPart = z
  .object({
    key: z.string().min(1),
    etag: z.string().min(1),
    size: z.number().int().min(0),
    format: z.enum(['parquet', 'csv']),
    rowGroups: z
      .tuple([z.number().int().min(0), z.number().int().min(1)])
      .optional()
      .describe('Parquet: row groups [first, end) of the file'),
  })
  .strict();
export type WindowPart = z.infer<typeof WindowPart>;

/** One batch of a part: some of its columns for some of its rows; `rows` counts new rows (0 for more columns of them). */
export interface WindowBatch {
  columns: Columns;
  /** string columns read as dictionary codes (those asked for as `coded`, Parquet only), not in `columns` */
  coded: Record<string, CodedCategories>;
  rows: number;
  /** names the batch in errors: "s3://b/w.parquet row group 3" */
  where: string;
  /** wanted columns the batch's file does not have */
  absent: string[];
}

function asyncFile(store: ObjectStore, part: Pick<WindowPart, 'key' | 'etag' | 'size'>): AsyncBuffer {
  return {
    byteLength: part.size,
    slice: async (start, end) => {
      const bytes = await store.getRange(part.key, start, end ?? part.size, part.etag);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}

async function parquetMeta(store: ObjectStore, part: Pick<WindowPart, 'key' | 'etag' | 'size'>): Promise<FileMetaData> {
  try {
    return await parquetMetadataAsync(asyncFile(store, part));
  } catch (err) {
    if (!(err instanceof Error) || isStoreFailure(err)) throw err;
    const head = await store.getRange(part.key, 0, Math.min(part.size, 24), part.etag);
    const begins = JSON.stringify(Buffer.from(head).toString('latin1'));
    throw new UnreadableDatasetError(
      `${store.uri(part.key)} is not a Parquet file despite its name (${err.message}; it begins ${begins})`,
    );
  }
}

/**
 * The window's parts: each file pinned to its current ETag; a Parquet file cut into runs of whole row groups of at
 * least `partRows` rows (more when the window would otherwise have over `maxParts` parts). A CSV file, and a Parquet
 * file without row groups, is one part.
 */
export async function planWindowParts(
  store: ObjectStore,
  keys: string[],
  format: 'parquet' | 'csv',
  limits: { maxParts: number; partRows: number },
): Promise<WindowPart[]> {
  const files = await Promise.all(keys.map(async (key) => ({ key, ...(await store.head(key)) })));
  if (format === 'csv') return files.map((f) => ({ ...f, format }));
  const groupRows = await Promise.all(
    files.map(async (f) => (await parquetMeta(store, f)).row_groups.map((g) => Number(g.num_rows))),
  );
  const total = groupRows.flat().reduce((s, r) => s + r, 0);
  const perPart = Math.max(limits.partRows, Math.ceil(total / limits.maxParts));
  return files.flatMap((f, i): WindowPart[] => {
    const rows = groupRows[i]!;
    if (rows.length === 0) return [{ ...f, format, rowGroups: [0, 1] }];
    const parts: WindowPart[] = [];
    let first = 0;
    let held = 0;
    rows.forEach((r, g) => {
      held += r;
      if (held >= perPart || g === rows.length - 1) {
        parts.push({ ...f, format, rowGroups: [first, g + 1] });
        first = g + 1;
        held = 0;
      }
    });
    return parts;
  });
}

/** A row group whose column chunk is stored as another physical type than the file's schema says: corrupt. */
export function rowGroupTypeProblems(meta: FileMetaData, group: number, wanted: string[]): string[] {
  const schema = new Map(meta.schema.slice(1).map((s) => [s.name, s.type]));
  return (meta.row_groups[group]?.columns ?? []).flatMap((c) => {
    const name = c.meta_data?.path_in_schema[0];
    if (!name || !wanted.includes(name)) return [];
    const declared = schema.get(name);
    const stored = c.meta_data?.type;
    return declared && stored && declared !== stored
      ? [`column "${name}" is stored as ${stored} in row group ${group}, but the file's schema says ${declared}`]
      : [];
  });
}

async function* parquetBatches(
  store: ObjectStore,
  part: WindowPart,
  wanted: string[],
  budgetBytes: number,
  coded: ReadonlySet<string>,
): AsyncGenerator<WindowBatch> {
  const uri = store.uri(part.key);
  const file = asyncFile(store, part);
  const metadata = await parquetMeta(store, part);
  const available = new Set(metadata.schema.slice(1).map((s) => s.name));
  const names = wanted.filter((c) => available.has(c));
  const absent = wanted.filter((c) => !available.has(c));
  const [first, end] = part.rowGroups ?? [0, metadata.row_groups.length];
  let groupStart = 0;
  for (let g = 0; g < first; g++) groupStart += Number(metadata.row_groups[g]!.num_rows);
  for (let g = first; g < Math.min(end, metadata.row_groups.length); g++) {
    const rows = Number(metadata.row_groups[g]!.num_rows);
    const where = `${uri} row group ${g}`;
    const problems = rowGroupTypeProblems(metadata, g, names);
    if (problems.length > 0) throw new UnreadableDatasetError(`${where}: ${problems.join('; ')}`);
    const perRead = Math.max(1, Math.floor(budgetBytes / Math.max(1, rows * BYTES_PER_CELL)));
    for (let c = 0; c < Math.max(1, names.length); c += perRead) {
      const subset = names.slice(c, c + perRead);
      let read: ParquetRows;
      try {
        read = await readParquetRows(file, metadata, subset, groupStart, groupStart + rows, coded);
      } catch (err) {
        if (isStoreFailure(err)) throw err;
        throw new UnreadableDatasetError(`${where} is truncated or corrupt Parquet (${(err as Error).message})`);
      }
      yield { ...read, rows: c === 0 ? rows : 0, where, absent };
    }
    groupStart += rows;
  }
}

async function* csvPartBatches(
  store: ObjectStore,
  part: WindowPart,
  wanted: string[],
  types: Record<string, ColumnType>,
  budgetBytes: number,
): AsyncGenerator<WindowBatch> {
  const uri = store.uri(part.key);
  const body = await store.getStream(part.key, part.etag);
  const batchRows = (header: string[]) => Math.max(100, Math.floor(budgetBytes / (header.length * BYTES_PER_CELL)));
  let seen = 0;
  try {
    for await (const { header, rows } of csvBatches(body, batchRows)) {
      const columns: Columns = {};
      const absent: string[] = [];
      for (const name of wanted) {
        const c = header.indexOf(name);
        if (c >= 0) columns[name] = rows.map((r) => typeCell(r[c]!, types[name]));
        else absent.push(name);
      }
      yield { columns, coded: {}, rows: rows.length, where: `${uri} rows ${seen + 1}–${seen + rows.length}`, absent };
      seen += rows.length;
    }
  } catch (err) {
    if (isStoreFailure(err)) throw err;
    if (err instanceof UnreadableDatasetError || (err as Error).name === 'InvalidInputError') throw err;
    throw new UnreadableDatasetError(`${uri} is not readable CSV: ${csvProblem(err)}`);
  }
}

/**
 * The batches of one part of a window, `wanted` columns only, each holding about `budgetBytes` at most; the string
 * columns named in `coded` come as dictionary codes where the file is Parquet.
 */
export function readWindowPart(
  store: ObjectStore,
  part: WindowPart,
  wanted: string[],
  types: Record<string, ColumnType>,
  budgetBytes: number,
  coded: ReadonlySet<string> = new Set(),
): AsyncGenerator<WindowBatch> {
  return part.format === 'parquet'
    ? parquetBatches(store, part, wanted, budgetBytes, coded)
    : csvPartBatches(store, part, wanted, types, budgetBytes);
}
