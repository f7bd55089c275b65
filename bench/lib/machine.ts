import { execSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';

export interface Machine {
  cpu: string;
  cores: number;
  ramGb: number;
  node: string;
  os: string;
  commit: string;
}

export function machine(): Machine {
  const list = cpus();
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    // What was measured is not that commit when the code around it has changed since.
    const changed = execSync(
      'git status --porcelain --untracked-files=no -- src bench package.json',
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    )
      .toString()
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.endsWith('bench/RESULTS.md'));
    if (changed.length) commit += ` with uncommitted changes to ${changed.length} file(s)`;
  } catch {
    // not a git checkout
  }
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    ramGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    os: `${process.platform} ${process.arch}`,
    commit,
  };
}
