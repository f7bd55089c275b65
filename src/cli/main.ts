#!/usr/bin/env node
import 'reflect-metadata';
import { runCli } from '#src/cli/cli.js';

runCli(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`gatehouse: ${(err as Error).message}\n`);
    process.exitCode = 1;
  },
);
