// Loaded into every test file's process by scripts/run-tests.mjs (`--import`), in place of Node's
// `--test-force-exit`: on Node 20 that flag ended a file's process before the tests of its later
// `describe` blocks had run, and the runner reported the file as passed with those tests missing
// (a file of 36 tests reported 30 to 36 from one run to the next). Here the process is ended only
// once the file's last test and hook have finished, and only if something (a pool, a timer) still
// keeps it alive 30 s later; a file's own `after` hooks get that long to clean up.
import { after } from 'node:test';

// Only in a test file's own process (the runner sets NODE_TEST_CONTEXT there), not in the runner.
if (process.env.NODE_TEST_CONTEXT) {
  after(() => {
    setTimeout(() => process.exit(), 30_000).unref();
  });
}
