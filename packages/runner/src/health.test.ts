import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildModel, saveModel, type ModelSpec } from '@squash/trainer';
import { tempDir } from './__tests__/fixtures.js';
import { checkFiles } from './health.js';
import { saveState } from './pipeline/state_cache.js';

const SPEC: ModelSpec = { name: 'm', layers: [{ type: 'flatten' }, { type: 'dense', units: 3 }] };
const DEAD_PID = 4_194_304; // above Linux's largest pid_max: no process has it
const anHourAgo = new Date(Date.now() - 3600_000);

/** Results beside a database: artifacts and caches, each entry written the way Squash writes it. */
async function results() {
  const root = tempDir('squash-health-');
  const dirs = { artifactDir: join(root, 'artifacts'), cacheDir: join(root, 'cache') };
  const baselines = join(dirs.cacheDir, 'baselines');
  const states = join(dirs.cacheDir, 'states');
  mkdirSync(dirs.artifactDir, { recursive: true });
  writeFileSync(join(dirs.artifactDir, 'a.sqz'), 'artifact');
  for (const id of ['good', 'garbled', 'truncated', 'unfinished']) {
    const model = buildModel(SPEC, [2, 2, 1], 1);
    await saveModel(model, join(baselines, id));
    model.dispose();
    if (id !== 'unfinished') writeFileSync(join(baselines, id, 'baseline.json'), '{"history": [], "backend": "cpu"}');
  }
  writeFileSync(join(baselines, 'garbled', 'model.json'), '{"modelTopology": ');
  writeFileSync(join(baselines, 'truncated', 'weights.bin'), 'xx');
  utimesSync(join(baselines, 'unfinished'), anHourAgo, anHourAgo);
  const model = buildModel(SPEC, [2, 2, 1], 1);
  const state = {
    spec: SPEC,
    model,
    masks: new Map(),
    quantized: new Map(),
    activations: new Map(),
    huffman: false,
    indexBits: 5 as const,
    history: [],
    trainSeconds: 0,
  };
  saveState(join(states, 'whole'), state, [2, 2, 1]);
  saveState(join(states, 'damaged'), state, [2, 2, 1]);
  model.dispose();
  writeFileSync(join(states, 'damaged', 'state.bin'), 'x');
  // Temp files: of a dead process an hour ago (strays), of this live process, and of a dead one just now.
  const temps = {
    stray: [
      join(dirs.artifactDir, `b.sqz.tmp-${DEAD_PID}`),
      join(baselines, `x.tmp-${DEAD_PID}`),
      join(states, `y.tmp-${DEAD_PID}`),
    ],
    live: join(dirs.artifactDir, `c.sqz.tmp-${process.pid}`),
    young: join(dirs.artifactDir, `d.sqz.tmp-${DEAD_PID}`),
  };
  for (const p of [...temps.stray, temps.live, temps.young]) writeFileSync(p, 'partial');
  for (const p of temps.stray) utimesSync(p, anHourAgo, anHourAgo);
  return { dirs, baselines, states, temps };
}

describe('checkFiles (squash doctor): temp files and cache entries beside the database', () => {
  it('finds strays of dead processes and damaged cache entries; --repair removes exactly those', async () => {
    const { dirs, baselines, states, temps } = await results();
    const found = checkFiles(dirs);
    expect(found.map((f) => f.problem).sort()).toEqual(
      [
        ...temps.stray.map((p) => `stray temp file ${p} (process ${DEAD_PID} is not running)`),
        `damaged cache entry ${join(baselines, 'garbled')}: model.json does not read (Unexpected end of JSON input)`,
        `damaged cache entry ${join(baselines, 'truncated')}: weights.bin has 2 bytes, model.json lists 60`,
        `damaged cache entry ${join(baselines, 'unfinished')}: baseline.json is missing (training stopped while saving it)`,
        `damaged cache entry ${join(states, 'damaged')}: state.bin has 1 bytes, its manifest says 60`,
      ].sort(),
    );
    expect(found.every((f) => f.repairable && !f.repaired)).toBe(true);
    expect(temps.stray.every(existsSync)).toBe(true);

    expect(checkFiles(dirs, { repair: true }).every((f) => f.repaired === 'removed')).toBe(true);
    expect(readdirSync(dirs.artifactDir).sort()).toEqual([
      'a.sqz',
      `c.sqz.tmp-${process.pid}`,
      `d.sqz.tmp-${DEAD_PID}`,
    ]);
    expect(readdirSync(baselines)).toEqual(['good']);
    expect(readdirSync(states)).toEqual(['whole']);
    expect(checkFiles(dirs)).toEqual([]);
  });

  it('finds nothing where nothing was written yet', () => {
    const root = tempDir('squash-health-');
    expect(checkFiles({ artifactDir: join(root, 'artifacts'), cacheDir: join(root, 'cache') })).toEqual([]);
  });
});
