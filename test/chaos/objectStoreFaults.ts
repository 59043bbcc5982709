import type { Cell } from './cell';

export const objectStoreCells: Cell[] = [];
