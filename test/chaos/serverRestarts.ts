import type { Cell } from './cell';

export const serverRestartCells: Cell[] = [];
