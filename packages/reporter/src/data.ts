import type { RunView } from '@squash/contract';

/**
 * What the runs were trained on, as far as their params say more than the kind: where the files
 * lay and their content hash, the normalization (with the statistics computed from the training
 * split) and the augmentation. Undefined when no run says more (mnist, synthetic, as before).
 * Distinct descriptions (data moved between runs, another file edited) are all listed.
 */
export function dataDescription(runs: readonly Pick<RunView, 'params'>[]): string | undefined {
  const seen = new Set<string>();
  for (const { params: p } of runs) {
    const parts: string[] = [];
    if (p['dataset.path'] !== undefined) {
      const sha = p['dataset.sha256'];
      parts.push(
        `${p.dataset} ${p['dataset.path']}${sha !== undefined ? ` (sha256 ${String(sha).slice(0, 12)})` : ''}`,
      );
    }
    if (p['dataset.normalize'] !== undefined) {
      const stats =
        p['dataset.normalize.mean'] !== undefined
          ? ` (mean ${p['dataset.normalize.mean']}, std ${p['dataset.normalize.std']})`
          : '';
      parts.push(`normalize ${p['dataset.normalize']}${stats}`);
    }
    if (p['dataset.augment'] !== undefined) parts.push(`augment ${p['dataset.augment']}`);
    if (parts.length) seen.add(parts.join(', '));
  }
  return seen.size ? [...seen].join('; ') : undefined;
}
