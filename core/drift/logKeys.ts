// The logarithmic bucket key of a DDSketch, ceil(log2(d) · multiplier) + offset, by table instead of Math.log2:
// about a third of a sketched window feature's time went to the logarithm. A positive double's exponent picks its
// octave and the top bits of its mantissa a cell of that octave; a cell holds the key of its smallest value and, where
// the next key starts inside the cell, the smallest double that has it — found by bisection over the formula itself,
// so the table gives the formula's key for every double, rounding included.

/** A cell whose keys the table does not hold (more than one boundary in it, or subnormal): the formula decides. */
const BY_FORMULA = -0x80000000;
const MANTISSA_BITS = 52;

interface Octave {
  keys: Int32Array;
  /** per cell: the smallest double of key keys[cell] + 1 inside the cell, else +Infinity */
  next: Float64Array;
}

export class LogKeys {
  private readonly cellBits: number;
  private readonly octaves = new Array<Octave | undefined>(2048);
  private readonly float = new Float64Array(1);
  private readonly words = new Uint32Array(this.float.buffer);
  private readonly high: number;

  constructor(
    private readonly multiplier: number,
    private readonly offset: number,
  ) {
    // Cells narrower than a key (a cell spans at most log2(1 + 2^-bits) · 2 octaves' worth of keys at the low end):
    // then a cell holds at most one boundary. Beyond 16 bits (relative accuracy under ~1e-5) cells may hold more.
    this.cellBits = Math.min(16, Math.max(4, Math.ceil(Math.log2(multiplier * 1.5)) + 2));
    this.float[0] = 1;
    this.high = this.words[1] === 0x3ff00000 ? 1 : 0; // the word with the sign and exponent: 1 on little-endian
  }

  /** The formula as sketches-js's LogarithmicMapping computes it. */
  formula(d: number): number {
    return Math.ceil(Math.log2(d) * this.multiplier) + this.offset;
  }

  /** The key of a positive, finite d: formula(d), by table. */
  key(d: number): number {
    this.float[0] = d;
    const high = this.words[this.high]!;
    const exponent = high >>> 20;
    const octave = this.octaves[exponent] ?? this.octave(exponent);
    const cell = (high & 0xfffff) >>> (20 - this.cellBits);
    const key = octave.keys[cell]!;
    return key === BY_FORMULA ? this.formula(d) : d >= octave.next[cell]! ? key + 1 : key;
  }

  /** The double of biased exponent `exponent` (1 … 2046) and mantissa `m` (0 ≤ m < 2^52), exactly. */
  private static double(exponent: number, m: number): number {
    return (1 + m / 2 ** MANTISSA_BITS) * 2 ** (exponent - 1023);
  }

  private octave(exponent: number): Octave {
    const cells = 2 ** this.cellBits;
    const keys = new Int32Array(cells).fill(BY_FORMULA);
    const next = new Float64Array(cells).fill(Infinity);
    if (exponent >= 1 && exponent <= 2046) {
      const width = 2 ** (MANTISSA_BITS - this.cellBits);
      for (let c = 0; c < cells; c++) {
        const first = c * width;
        const last = first + width - 1;
        const low = this.formula(LogKeys.double(exponent, first));
        const high = this.formula(LogKeys.double(exponent, last));
        if (!(low > BY_FORMULA && high < 0x7fffffff)) continue; // keys past 32 bits: the formula
        if (high === low) keys[c] = low;
        else if (high === low + 1) {
          // The smallest mantissa in the cell whose key is low + 1 (the formula is monotone in d).
          let lo = first;
          let hi = last;
          while (lo < hi) {
            const mid = lo + Math.floor((hi - lo) / 2);
            if (this.formula(LogKeys.double(exponent, mid)) > low) hi = mid;
            else lo = mid + 1;
          }
          // Held only where the formula steps there and nowhere else that bisection could miss at the ends.
          if (lo > first && this.formula(LogKeys.double(exponent, lo - 1)) === low) {
            keys[c] = low;
            next[c] = LogKeys.double(exponent, lo);
          }
        }
      }
    }
    const octave = { keys, next };
    this.octaves[exponent] = octave;
    return octave;
  }
}
