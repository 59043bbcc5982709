// String columns read as dictionary codes give, row for row, the cells parquetRead gives: over row groups with
// dictionaries of their own, many pages (of version 2 here, of version 1 in the flights file), missing values, a row
// range that cuts row groups, plain pages; a non-string column named as coded comes as cells; a corrupt dictionary
// index is an error that says so.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parquetMetadata } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { readParquet } from '../../adapters/datasetFiles';
import { readParquetRows } from '../../adapters/parquetColumns';
import { FLIGHTS_FILE } from '../../cli/ingestFlights';
import type { CodedCategories } from '../../core/drift/categories';
import { seededRandom } from '../../core/split';

const ROWS = 5000;
const random = seededRandom(7);
// Row groups of 2000 rows, each with categories of its own as well as shared ones, some missing or empty.
const categories = (row: number) => ['ATL', 'SFO', '', `G${Math.floor(row / 2000)}-${row % 5}`];
const strings = Array.from({ length: ROWS }, (_, row) =>
  random() < 0.1 ? null : categories(row)[Math.floor(random() * 4)]!,
);

function file(encoding: 'RLE_DICTIONARY' | 'PLAIN'): ArrayBuffer {
  return parquetWriteBuffer({
    columnData: [
      { name: 's', data: strings, type: 'STRING', encoding },
      { name: 'n', data: strings.map((s) => (s === null ? null : s.length)), type: 'INT32', encoding },
    ],
    rowGroupSize: 2000,
    pageSize: 1024, // many pages a chunk
    codec: 'UNCOMPRESSED',
  });
}

const decoded = (c: CodedCategories) => Array.from(c.codes, (k) => (k < 0 ? null : c.dictionary[k]!));
const asAsync = (buffer: ArrayBuffer) => ({
  byteLength: buffer.byteLength,
  slice: (a: number, b?: number) => buffer.slice(a, b),
});

describe('Parquet string columns as dictionary codes', () => {
  for (const encoding of ['RLE_DICTIONARY', 'PLAIN'] as const)
    it(`${encoding}: the codes are the cells, each string once in the dictionary; a number column stays cells`, async () => {
      const buffer = file(encoding);
      const meta = parquetMetadata(buffer);
      assert.equal(meta.row_groups.length, 3);
      const chunk = meta.row_groups[0]!.columns[0]!.meta_data!;
      assert.equal(chunk.encodings.includes('RLE_DICTIONARY'), encoding === 'RLE_DICTIONARY', 'the file is encoded so');
      const cells = await readParquet(new Uint8Array(buffer), 'f.parquet');
      const coded = await readParquet(new Uint8Array(buffer), 'f.parquet', undefined, new Set(['s', 'n']));
      assert.deepEqual(Object.keys(coded.coded), ['s'], 'only the string column comes as codes');
      assert.deepEqual(coded.columns.n, cells.columns.n);
      assert.equal(coded.columns.s, undefined);
      const s = coded.coded.s!;
      assert.deepEqual(decoded(s), cells.columns.s);
      assert.deepEqual(decoded(s), strings);
      assert.equal(new Set(s.dictionary).size, s.dictionary.length, 'one code per string across row groups');
      // Rows 1500–4500 cut the first and last row groups.
      const part = await readParquetRows(asAsync(buffer), meta, ['s'], 1500, 4500, new Set(['s']));
      assert.deepEqual(decoded(part.coded.s!), strings.slice(1500, 4500));
    });

  it('the flights file (pages of version 1, ZSTD): the codes of its first row group are its cells', async () => {
    const bytes = await readFile(FLIGHTS_FILE);
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const meta = parquetMetadata(buffer);
    const rows = Number(meta.row_groups[0]!.num_rows);
    const names = ['origin', 'destination'];
    const cells = await readParquetRows(asAsync(buffer), meta, names, 0, rows);
    const coded = await readParquetRows(asAsync(buffer), meta, names, 0, rows, new Set(names));
    for (const name of names) {
      assert.ok(meta.row_groups[0]!.columns.some((c) => c.meta_data?.path_in_schema[0] === name));
      assert.deepEqual(decoded(coded.coded[name]!), cells.columns[name]);
    }
  });

  it('a dictionary index past the dictionary is an error naming the column, not a wrong count', async () => {
    // Three categories a row group: 2-bit indices, bit-packed; all bits set makes index 3.
    const buffer = parquetWriteBuffer({
      columnData: [
        {
          name: 's',
          data: Array.from({ length: 64 }, (_, i) => ['a', 'b', 'c'][i % 3]!),
          type: 'STRING',
          nullable: false,
          encoding: 'RLE_DICTIONARY',
        },
      ],
      codec: 'UNCOMPRESSED',
      statistics: false,
    });
    const meta = parquetMetadata(buffer);
    const chunk = meta.row_groups[0]!.columns[0]!.meta_data!;
    const reader = { view: new DataView(buffer), offset: Number(chunk.data_page_offset) };
    const header = parquetHeader(reader);
    assert.equal(header.type, 'DATA_PAGE_V2');
    assert.equal(header.data_page_header_v2?.definition_levels_byte_length, 0, 'no levels: a required column');
    const bytes = new Uint8Array(buffer);
    // The page: the bit width (one byte), a run header (one byte), then the packed indices.
    assert.equal(bytes[reader.offset], 2, 'indices of 2 bits');
    bytes.fill(0xff, reader.offset + 2, reader.offset + header.compressed_page_size);
    await assert.rejects(
      readParquet(bytes, 'bad.parquet', undefined, new Set(['s'])),
      /bad\.parquet is truncated or corrupt Parquet \("s": a dictionary index is past its dictionary of 3 strings\)/,
    );
  });
});
