import type { Cell } from './cell';

export const diskFullCells: Cell[] = [];
