import { Metric, type RunView } from '@squash/contract';
import { terminalText } from '@squash/reporter';

/** Everything `squash export` says about what it wrote. */
export interface ExportSummary {
  run: Pick<RunView, 'id' | 'experiment' | 'label' | 'metrics'>;
  /** Set when a trial id was given: which of its runs this is. */
  trialNote?: string;
  format: string;
  out: string;
  artifact: { path: string; checksum: 'verified' | 'not recorded' };
  files: ReadonlyArray<{ name: string; bytes: Uint8Array }>;
  tensors: ReadonlyArray<{ name: string; shape: number[]; dtype: string; exact: boolean; maxAbsError: number }>;
  /** What became of the trial's activation quantization. */
  activations: string;
  /** How the accuracy was measured, and on which backend. */
  measuredBy: string;
  backend: string;
  /** Test samples the written model classifies correctly, of `count`. */
  correct: number;
  count: number;
}

const pct = (correct: number, count: number) => `${((100 * correct) / count).toFixed(2)} % (${correct} of ${count})`;

function comparedWithRecorded(s: ExportSummary): string {
  const recorded = s.run.metrics[Metric.accuracy];
  if (recorded === undefined) return 'no accuracy recorded';
  const r = Math.round(recorded * s.count);
  if (r === s.correct) return `recorded ${pct(r, s.count)}, the same`;
  const delta = (100 * (s.correct - r)) / s.count;
  return `recorded ${pct(r, s.count)}, ${delta > 0 ? '+' : ''}${delta.toFixed(2)} points`;
}

/**
 * The files with their bytes, the artifact check, each tensor exact or lossy (with its max error),
 * what became of activation quantization, and the measured accuracy beside the recorded one.
 */
export function exportSummary(s: ExportSummary): string {
  const { run } = s;
  const lines = [
    `exported run ${run.id} (${terminalText(run.experiment)}: ${terminalText(run.label)}) as ${s.format} to ${terminalText(s.out)}`,
  ];
  if (s.trialNote) lines.push(terminalText(s.trialNote));
  lines.push(
    s.artifact.checksum === 'verified'
      ? `artifact ${terminalText(s.artifact.path)}: sha256 matches the one recorded when it was written`
      : `artifact ${terminalText(s.artifact.path)}: no checksum was recorded for this run (written before checksums were); its size matches and it parses`,
  );
  const width = Math.max(...s.files.map((f) => f.name.length), 5);
  lines.push('files:');
  for (const f of s.files) lines.push(`  ${f.name.padEnd(width)}  ${String(f.bytes.length).padStart(10)} bytes`);
  const total = s.files.reduce((n, f) => n + f.bytes.length, 0);
  lines.push(`  ${'total'.padEnd(width)}  ${String(total).padStart(10)} bytes`);
  const exact = s.tensors.filter((t) => t.exact).length;
  const lossy = s.tensors.length - exact;
  const dtype = s.format === 'sqz' ? '.sqz' : (s.tensors[0]?.dtype ?? 'float32');
  lines.push(`weights (${dtype}): ${s.tensors.length} tensors, ${exact} exact${lossy ? `, ${lossy} lossy` : ''}`);
  const nameWidth = Math.max(...s.tensors.map((t) => t.name.length), 6);
  for (const t of s.tensors) {
    const how = t.exact ? 'exact' : `lossy, max abs error ${Number(t.maxAbsError.toPrecision(3))}`;
    lines.push(`  ${terminalText(t.name).padEnd(nameWidth)}  ${t.shape.join('×').padEnd(12)}  ${how}`);
  }
  lines.push(`activation quantization: ${s.activations}`);
  lines.push(
    `accuracy on the run's test split (${s.measuredBy}, backend ${s.backend}): ${pct(s.correct, s.count)}; ${comparedWithRecorded(s)}`,
  );
  return `${lines.join('\n')}\n`;
}
