export { Ledger } from './ledger.ts';
export { Label } from './label.ts';
export { LedgerEntry, EntryDirections } from './entry.ts';
