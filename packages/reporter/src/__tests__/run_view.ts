import type { RunView } from '@squash/contract';

/** A finished, non-baseline run with nothing recorded: tests override what they are about. */
export function runView(over: Partial<RunView>): RunView {
  return {
    id: 'r',
    experiment: 'e',
    trialId: 't',
    sweep: 's',
    label: 'l',
    isBaseline: false,
    status: 'FINISHED',
    seed: 1,
    attempt: 1,
    squashVersion: null,
    backend: 'wasm',
    startedAt: null,
    endedAt: null,
    error: null,
    params: {},
    metrics: {},
    artifacts: {},
    tags: {},
    ...over,
  };
}
