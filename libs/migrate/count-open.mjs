import { PGlite } from '@electric-sql/pglite';
const orig = PGlite.create;
let n = 0;
PGlite.create = function (...a) { n++; process.stderr.write(`[PGlite.create #${n} ${JSON.stringify(a[0]?.dataDir)} +${Math.round(performance.now())}ms]\n`); return orig.apply(this, a); };
