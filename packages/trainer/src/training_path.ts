/** Which engine trained a run: the compiled native plan, or tfjs' autograd over tfjs ops. */
export type TrainingPath = 'native-plan' | 'tfjs-autograd';

/**
 * The engines that trained these epochs ('native-plan', 'tfjs-autograd', or both joined by '+'),
 * as a run records it; undefined when nothing was trained or the logs predate the field.
 */
export function trainingPathOf(logs: ReadonlyArray<{ path?: TrainingPath }>): string | undefined {
  const paths = [...new Set(logs.map((l) => l.path).filter((p) => p !== undefined))];
  return paths.length ? paths.join('+') : undefined;
}
