// Rows of a Parquet file's columns, as plain cells or (string columns, when asked) as dictionary codes: the indices a
// dictionary-encoded column chunk stores, kept as integers instead of being turned into a string per row (what
// parquetRead does) and then counted through a Map lookup per row. A drift check counts categories; codes are all it
// needs. The codes are read with hyparquet's own page decoders.
import { parquetRead, type AsyncBuffer, type FileMetaData, type SchemaElement } from 'hyparquet';
import { parquetHeader, readPage } from 'hyparquet/src/column.js';
import { convert, DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { decompressPage, readDataPage, readDataPageV2 } from 'hyparquet/src/datapage.js';
import { parquetSchema } from 'hyparquet/src/metadata.js';
import { getMaxDefinitionLevel, getTreePath, isFlatColumn } from 'hyparquet/src/schema.js';
import type { ColumnDecoder, DataPage, DecodedArray } from 'hyparquet/src/types.js';
import { compressors } from 'hyparquet-compressors';
import type { CodedCategories } from '../core/drift/categories';
import type { Cell, Columns } from '../core/features';

/** A decoded Parquet value as a plain cell (bigints and dates as numbers, nested values as JSON). */
export function toCell(v: unknown): Cell {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  return JSON.stringify(v);
}

/** A column hyparquet decodes as strings (its default for a BYTE_ARRAY without another meaning). */
export function isStringColumn(e: SchemaElement | undefined): boolean {
  if (!e || e.type !== 'BYTE_ARRAY' || (e.num_children ?? 0) > 0 || e.repetition_type === 'REPEATED') return false;
  const logical = e.logical_type?.type;
  if (logical) return logical === 'STRING' || logical === 'ENUM';
  return e.converted_type === undefined || e.converted_type === 'UTF8' || e.converted_type === 'ENUM';
}

/** Codes of rows from several column chunks, each chunk's dictionary merged into one (each string once). */
class CodedColumn implements CodedCategories {
  readonly codes: Int32Array;
  readonly dictionary: string[] = [];
  private readonly codeOf = new Map<string, number>();

  constructor(rows: number) {
    this.codes = new Int32Array(rows).fill(-1);
  }

  code(category: string): number {
    let code = this.codeOf.get(category);
    if (code === undefined) {
      code = this.dictionary.length;
      this.codeOf.set(category, code);
      this.dictionary.push(category);
    }
    return code;
  }
}

function asStrings(values: DecodedArray, what: string): string[] {
  const strings = Array.from(values as ArrayLike<unknown>);
  if (strings.some((s) => typeof s !== 'string')) throw new Error(`${what} holds values that are not strings`);
  return strings as string[];
}

/**
 * Reads the string column `name` of row group `group` into `into.codes` from row `offset` on (missing rows stay −1).
 * Throws on a corrupt chunk (a code past its dictionary, more values than the row group has rows).
 */
async function readGroupCodes(
  file: AsyncBuffer,
  metadata: FileMetaData,
  group: number,
  name: string,
  into: CodedColumn,
  offset: number,
): Promise<void> {
  const rowGroup = metadata.row_groups[group]!;
  const meta = rowGroup.columns.find((c) => c.meta_data?.path_in_schema.join('.') === name)?.meta_data;
  if (!meta) throw new Error(`row group ${group} has no column chunk "${name}"`);
  const schemaPath = getTreePath(parquetSchema(metadata), meta.path_in_schema);
  const element = schemaPath[schemaPath.length - 1]!.element;
  if (!isFlatColumn(schemaPath) || !isStringColumn(element))
    throw new Error(`column "${name}" is not a flat string column`);
  const decoder: ColumnDecoder = {
    pathInSchema: meta.path_in_schema,
    type: meta.type,
    element,
    schemaPath,
    codec: meta.codec,
    parsers: DEFAULT_PARSERS,
    compressors,
  };
  const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
  const buffer = await file.slice(start, start + Number(meta.total_compressed_size));
  const reader = { view: new DataView(buffer), offset: 0 };
  const rows = Number(rowGroup.num_rows);
  const maxDefinition = getMaxDefinitionLevel(schemaPath);
  /** this chunk's dictionary index → code in `into` */
  let remap = new Int32Array(0);
  let row = 0;
  while (row < rows && reader.offset < reader.view.byteLength) {
    const header = parquetHeader(reader);
    if (header.type === 'DICTIONARY_PAGE') {
      const { data } = readPage(reader, header, decoder, undefined, undefined, 0);
      const dictionary = asStrings(convert(data!, decoder), `the dictionary of "${name}"`);
      remap = Int32Array.from(dictionary, (s) => into.code(s));
      continue;
    }
    const bytes = new Uint8Array(buffer, reader.offset, header.compressed_page_size);
    reader.offset += header.compressed_page_size;
    let page: DataPage;
    let encoding: string;
    if (header.type === 'DATA_PAGE') {
      const daph = header.data_page_header!;
      encoding = daph.encoding;
      const raw = decompressPage(bytes, header.uncompressed_page_size, meta.codec, compressors);
      page = readDataPage(raw, daph, decoder);
    } else if (header.type === 'DATA_PAGE_V2') {
      encoding = header.data_page_header_v2!.encoding;
      page = readDataPageV2(bytes, header, decoder);
    } else continue; // an index page: nothing to read
    const values = page.dataPage;
    const levels = page.definitionLevels ?? [];
    const count = levels.length > 0 ? levels.length : values.length;
    if (row + count > rows) throw new Error(`"${name}" holds more values than row group ${group}'s ${rows} rows`);
    const present = (i: number) => levels.length === 0 || levels[i] === maxDefinition;
    if (encoding.endsWith('_DICTIONARY')) {
      for (let i = 0, k = 0; i < count; i++, row++) {
        if (!present(i)) continue;
        const code = remap[values[k++] as number];
        if (code === undefined)
          throw new Error(`"${name}": a dictionary index is past its dictionary of ${remap.length} strings`);
        into.codes[offset + row] = code;
      }
    } else {
      // A writer falls back to plain pages when a chunk's dictionary grows too large.
      const strings = asStrings(convert(values, decoder), `a page of "${name}"`);
      for (let i = 0, k = 0; i < count; i++, row++) if (present(i)) into.codes[offset + row] = into.code(strings[k++]!);
    }
  }
  if (row !== rows) throw new Error(`"${name}" holds ${row} values for row group ${group}'s ${rows} rows`);
}

export interface ParquetRows {
  columns: Columns;
  coded: Record<string, CodedCategories>;
}

/**
 * Rows [rowStart, rowEnd) of the `names` columns of a Parquet file: those named in `coded` that are string columns as
 * dictionary codes (code −1 = missing), the others as cells.
 */
export async function readParquetRows(
  file: AsyncBuffer,
  metadata: FileMetaData,
  names: string[],
  rowStart: number,
  rowEnd: number,
  coded: ReadonlySet<string> = new Set(),
): Promise<ParquetRows> {
  const schema = new Map(metadata.schema.slice(1).map((e) => [e.name, e]));
  const asCodes = names.filter((n) => coded.has(n) && isStringColumn(schema.get(n)));
  const asCells = names.filter((n) => !asCodes.includes(n));
  const rows = rowEnd - rowStart;
  const columns: Columns = Object.fromEntries(asCells.map((n) => [n, new Array<Cell>(rows).fill(null)]));
  if (asCells.length > 0)
    await parquetRead({
      file,
      metadata,
      compressors,
      columns: asCells,
      rowStart,
      rowEnd,
      onChunk: ({ columnName, columnData, rowStart: chunkStart }) => {
        const target = columns[columnName];
        if (!target) return;
        for (let i = 0; i < columnData.length; i++) {
          const row = chunkStart + i - rowStart;
          if (row >= 0 && row < rows) target[row] = toCell(columnData[i]);
        }
      },
    });
  // Codes are read a whole row group at a time: those of the row groups the rows fall in, then the rows cut out.
  const groups: { group: number; start: number }[] = [];
  let start = 0;
  metadata.row_groups.forEach((g, group) => {
    const end = start + Number(g.num_rows);
    if (end > rowStart && start < rowEnd) groups.push({ group, start });
    start = end;
  });
  const first = groups[0]?.start ?? rowStart;
  const held = groups.reduce((n, g) => n + Number(metadata.row_groups[g.group]!.num_rows), 0);
  const result: Record<string, CodedCategories> = {};
  for (const name of asCodes) {
    const column = new CodedColumn(held);
    for (const g of groups) await readGroupCodes(file, metadata, g.group, name, column, g.start - first);
    result[name] = { codes: column.codes.subarray(rowStart - first, rowEnd - first), dictionary: column.dictionary };
  }
  return { columns, coded: result };
}
