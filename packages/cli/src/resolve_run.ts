import type { RunView } from '@squash/contract';
import { ConfigError } from '@squash/core';
import { terminalText } from '@squash/reporter';
import type { SqliteStore } from '@squash/store';

/** Candidates listed when an id is ambiguous, or near an unknown one. */
const MAX_CANDIDATES = 10;
const MAX_NEAREST = 5;

/** The run a command acts on and, for a trial id, which of the trial's runs it is. */
export interface ResolvedRun {
  run: RunView;
  /** Set when a trial id was given: the trial and a note saying which of its runs this is. */
  trial?: { id: string; note: string };
}

/** Where to find the ids that exist (said whenever an id matches nothing). */
export const LIST_IDS_HINT =
  "squash ls lists the experiments; squash query --experiment <name> --columns 'run_id, trial_id, label, status' lists their ids";

// Ids are hex digits and dashes; anything else matches nothing (and needs no quoting in a filter).
const ID = /^[0-9A-Za-z-]+$/;
const like = (attr: string, prefix: string) => `attributes.${attr} like '${prefix}%'`;

/** Runs and trials whose id shares the longest prefix (of 2 characters or more) with `id`. */
function nearest(store: SqliteStore, id: string): string[] {
  for (let n = id.length - 1; n >= 2; n--) {
    const p = id.slice(0, n);
    const rows = store.searchRuns(`${like('run_id', p)} or ${like('trial_id', p)}`, {
      columns: ['run_id, trial_id, label'],
      limit: MAX_NEAREST,
    }).rows;
    if (!rows.length) continue;
    const seen = new Set<string>();
    const out: string[] = [];
    for (const r of rows) {
      const [kind, value] = String(r.run_id).startsWith(p) ? ['run', r.run_id] : ['trial', r.trial_id];
      const text = `${kind} ${value} (${terminalText(String(r.label))})`;
      if (seen.has(text)) continue;
      seen.add(text);
      out.push(text);
    }
    return out;
  }
  return [];
}

/**
 * A run id or a trial id (or a prefix of either): a run id is that run; a trial id is its latest
 * FINISHED run (else its latest run), and the note says so. An id that is both, or the prefix of
 * several, is a ConfigError listing the candidates; one that matches nothing names the nearest ids.
 */
export function resolveRun(store: SqliteStore, id: string): ResolvedRun {
  const ok = ID.test(id);
  const runs = ok
    ? store.searchRuns(like('run_id', id), { columns: ['run_id, label'], limit: MAX_CANDIDATES + 1 }).rows
    : [];
  const trialRows = ok ? store.searchRuns(like('trial_id', id), { columns: ['trial_id, label'] }).rows : [];
  const trials = new Map<string, { label: string; runs: number }>();
  for (const r of trialRows) {
    const t = trials.get(String(r.trial_id)) ?? { label: String(r.label), runs: 0 };
    t.runs++;
    trials.set(String(r.trial_id), t);
  }
  const exactRun = runs.find((r) => r.run_id === id);
  const exactTrial = trials.has(id);
  if (exactRun || (runs.length === 1 && !trials.size))
    return { run: store.getRun(String((exactRun ?? runs[0]!).run_id)) };
  if (exactTrial || (trials.size === 1 && !runs.length)) {
    const trialId = exactTrial ? id : [...trials.keys()][0]!;
    const all = store.runsOfTrial(trialId).filter((r) => r.trialId === trialId);
    const finished = all.filter((r) => r.status === 'FINISHED');
    const run = (finished.length ? finished : all)[(finished.length ? finished : all).length - 1]!;
    const which = finished.length ? 'its latest finished run' : `its latest run (none finished)`;
    return {
      run,
      trial: {
        id: trialId,
        note: `trial ${trialId}: ${which}, of ${all.length} (squash history ${trialId.slice(0, 12)} lists them)`,
      },
    };
  }
  if (!runs.length && !trials.size) {
    const near = ok ? nearest(store, id) : [];
    // The id comes from the command line: shown escaped.
    const nearText = near.length ? `; the nearest ids: ${near.join(', ')}` : '';
    throw new ConfigError(`no run or trial with id '${terminalText(id)}'${nearText}`, { hint: LIST_IDS_HINT });
  }
  const candidates = [
    // Labels come from experiment files: shown escaped, as in a table.
    ...runs.slice(0, MAX_CANDIDATES).map((r) => `run ${r.run_id} (${terminalText(String(r.label))})`),
    ...[...trials]
      .slice(0, MAX_CANDIDATES)
      .map(([t, { label, runs: n }]) => `trial ${t} (${terminalText(label)}, ${n} runs)`),
  ];
  const more = runs.length > MAX_CANDIDATES || trials.size > MAX_CANDIDATES ? '\n  …' : '';
  throw new ConfigError(
    `'${id}' is the start of several ids; give more characters:\n  ${candidates.join('\n  ')}${more}`,
  );
}
