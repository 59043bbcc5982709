// Exact counts of a numeric column's distinct finite values in an open-addressing hash table over typed arrays:
// no boxed numbers and no Map entries per value, so counting a window costs a few nanoseconds a row.
import type { Distribution } from './statistics';

const EMPTY = 0; // counts[i] === 0 marks a free slot (every stored value has a count ≥ 1)
const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);

/** Both 32-bit halves mixed, then murmur3's finaliser: small integers (whose low word and low exponent bits are all
 *  zero) must still spread over the low bits the table indexes by, or every one of them lands in one probe chain. */
function hashOf(v: number): number {
  bits[0] = v;
  let h = words[0]! ^ Math.imul(words[1]!, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class ValueCounts {
  private keys: Float64Array;
  private counts: Float64Array;
  private mask: number;
  /** distinct values held */
  size = 0;

  constructor(capacity = 64) {
    let slots = 16;
    while (slots < capacity * 2) slots *= 2;
    this.keys = new Float64Array(slots);
    this.counts = new Float64Array(slots);
    this.mask = slots - 1;
  }

  /** Adds `weight` occurrences of the finite value `v` (-0 counts as 0, as SciPy's sort does). */
  add(v: number, weight = 1): void {
    const value = v + 0;
    let i = hashOf(value) & this.mask;
    for (;;) {
      if (this.counts[i] === EMPTY) {
        this.keys[i] = value;
        this.counts[i] = weight;
        if (++this.size * 2 > this.mask) this.grow();
        return;
      }
      if (this.keys[i] === value) {
        this.counts[i]! += weight;
        return;
      }
      i = (i + 1) & this.mask;
    }
  }

  private grow(): void {
    const { keys, counts } = this;
    this.keys = new Float64Array(keys.length * 2);
    this.counts = new Float64Array(keys.length * 2);
    this.mask = this.keys.length - 1;
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (counts[i] !== EMPTY) this.add(keys[i]!, counts[i]);
  }

  /** Visits every distinct value with its count, in no particular order. */
  forEach(visit: (value: number, count: number) => void): void {
    for (let i = 0; i < this.keys.length; i++) if (this.counts[i] !== EMPTY) visit(this.keys[i]!, this.counts[i]!);
  }

  /** The counts as a distribution: distinct values ascending. */
  toDistribution(): Distribution {
    const values = new Float64Array(this.size);
    let n = 0;
    this.forEach((v) => (values[n++] = v));
    values.sort();
    const counts = new Float64Array(this.size);
    let total = 0;
    for (let j = 0; j < n; j++) total += counts[j] = this.get(values[j]!);
    return { values, counts, total };
  }

  /** The count of `v` (0 when absent). */
  get(v: number): number {
    const value = v + 0;
    let i = hashOf(value) & this.mask;
    while (this.counts[i] !== EMPTY) {
      if (this.keys[i] === value) return this.counts[i]!;
      i = (i + 1) & this.mask;
    }
    return 0;
  }
}
