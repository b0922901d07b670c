import { main } from '../cli.js';
import { exitCodeFor } from '../errors.js';

/** `squash …` in this process, through the same top-level handler as bin.ts. */
export async function squashInProcess(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io = { out: (s: string) => void (out += s), err: (s: string) => void (err += s) };
  try {
    return { code: await main(argv, io), out, err };
  } catch (e) {
    return { code: exitCodeFor(e, io.err), out, err };
  }
}
