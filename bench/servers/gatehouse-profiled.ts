/**
 * Gatehouse's own entry point, for `node --cpu-prof`: Nest re-raises SIGTERM after closing, which
 * would kill the process before V8 writes the profile, so exit normally on SIGTERM instead.
 */
process.prependListener('SIGTERM', () => process.exit(0));
await import('#src/main.js');
