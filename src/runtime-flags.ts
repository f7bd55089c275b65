import { setFlagsFromString } from 'node:v8';

/**
 * The V8 settings a Gatehouse server needs whatever command started it: imported first by main.ts.
 *
 * Allocation-site pretenuring off, as `--no-allocation-site-pretenuring` in `start:prod` does.
 * During a server's warm-up V8 may judge the objects of a request to be long-lived and allocate
 * them straight into the old generation; a server that does runs at about twice the CPU a request
 * (docs/performance.md, "Memory"; on 2026-12-04, 5 of 11 starts without the flag, none of 8 with
 * it). V8 reads the flag when it acts on an allocation site's feedback, at a garbage collection, so
 * setting it here, before the application loads, covers a server started as
 * `node dist/src/main.js` (test/unit/runtime-flags.test.ts). The heap's sizes cannot be set this
 * late: they stay on the command line (`start:prod`).
 */
setFlagsFromString('--no-allocation-site-pretenuring');
