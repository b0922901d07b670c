// Packs what a user installs — @squash/cli (the `squash` command) and @squash/sqz (the decoder) —
// and every workspace package they need at run time, one tarball each, into a directory:
//   node scripts/pack.mjs <out dir> [--no-build]
// `npm install <out dir>/*.tgz` in an empty directory then installs the CLI, its third-party
// dependencies coming from the registry. pnpm packs, not npm: it rewrites `workspace:^` ranges to
// the versions. Prints the tarballs' paths, one a line. --no-build: dist/ is known to be fresh (the
// pack test runs after turbo built what it depends on).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PUBLISHED = ['@squash/cli', '@squash/sqz'];

function run(args) {
  const r = spawnSync('bash', ['scripts/pnpm.sh', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`pack: pnpm ${args.join(' ')} failed (exit ${r.status})`);
  return r.stdout;
}

/** Packs into `outDir`; returns the tarballs' absolute paths. */
export function pack(outDir, { build = true } = {}) {
  const out = resolve(outDir);
  mkdirSync(out, { recursive: true });
  if (build) run(['exec', 'turbo', 'run', 'build', '--output-logs=errors-only']);
  // --filter-prod: `pkg...` with dependencies and peers but not devDependencies, which users never install.
  const filters = PUBLISHED.flatMap((name) => ['--filter-prod', `${name}...`]);
  const packed = JSON.parse(run(['-r', ...filters, 'pack', '--json', '--pack-destination', out]));
  const privateOnes = packed.map((p) => p.name).filter((name) => manifests().get(name)?.private);
  // pnpm packs a private package without a word, but the registry would refuse to publish it.
  if (privateOnes.length) throw new Error(`pack: ${privateOnes.join(', ')} private, yet a published package needs it`);
  return packed.map((p) => p.filename).sort();
}

/** Every workspace package's manifest by name. */
function manifests() {
  const dirs = readdirSync(join(ROOT, 'packages'), { withFileTypes: true }).filter((d) => d.isDirectory());
  return new Map(
    dirs.map((d) => {
      const pkg = JSON.parse(readFileSync(join(ROOT, 'packages', d.name, 'package.json'), 'utf8'));
      return [pkg.name, pkg];
    }),
  );
}

if (resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outDir = args.find((a) => !a.startsWith('--'));
  if (!outDir) {
    console.error('usage: node scripts/pack.mjs <out dir> [--no-build]');
    process.exit(2);
  }
  try {
    for (const file of pack(outDir, { build: !args.includes('--no-build') })) console.log(file);
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
