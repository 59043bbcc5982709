import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GpuPool } from '../../adapters/gpuPool';
import { stepsRedone } from '../../core/attempts';
import { discoverGpus } from '../../workers/gpuSlots';

describe('GPU slots', () => {
  it('gives each training its own GPUs and one slot per gpusPerJob', () => {
    const pool = new GpuPool(['0', '1', '2', '3'], 2);
    assert.equal(pool.slots, 2);
    const a = pool.acquire();
    const b = pool.acquire();
    assert.deepEqual(
      [a, b],
      [
        ['0', '1'],
        ['2', '3'],
      ],
    );
    assert.throws(() => pool.acquire(), /no free GPU/);
    pool.release(a);
    assert.deepEqual(pool.acquire(), ['0', '1']);
  });

  it('runs on CPU with one slot when there is no GPU', () => {
    const pool = new GpuPool([], 1);
    assert.equal(pool.slots, 1);
    assert.deepEqual(pool.acquire(), []);
  });

  it('names the slot a training occupies by the host and its GPUs', () => {
    const pool = new GpuPool(['0', '1', '2', '3'], 2, 'node-7');
    assert.equal(pool.slotOf(pool.acquire()), 'node-7/gpu0,1');
    assert.equal(pool.slotOf(['3', '2']), 'node-7/gpu2,3');
    assert.equal(new GpuPool([], 1, 'node-7').slotOf([]), 'node-7/cpu');
  });

  it('reads CUDA_VISIBLE_DEVICES before asking nvidia-smi', () => {
    assert.deepEqual(discoverGpus({ CUDA_VISIBLE_DEVICES: '0, 2' }), {
      gpus: ['0', '2'],
      source: 'CUDA_VISIBLE_DEVICES',
    });
    assert.deepEqual(discoverGpus({ CUDA_VISIBLE_DEVICES: '' }), { gpus: [], source: 'none' });
    assert.deepEqual(discoverGpus({ CUDA_VISIBLE_DEVICES: '-1' }), { gpus: [], source: 'none' });
  });

  it('counts steps redone after a resume', () => {
    assert.equal(stepsRedone(27, 20), 7);
    assert.equal(stepsRedone(20, 20), 0);
  });
});
