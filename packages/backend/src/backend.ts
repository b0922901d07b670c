import { registerNativeBackend } from '@squash/native';
import { ConfigError } from '@squash/core';
import { registerWasmKernels } from './kernels/register_wasm.js';

/** What a user may ask for. `auto` tries tfjs-node, then native (squash's C++ kernels), then wasm, then cpu. */
export type BackendPreference = 'auto' | 'tensorflow' | 'native' | 'wasm' | 'cpu';
export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'tensorflow', 'native', 'wasm', 'cpu'];

export interface BackendChoice {
  /** The name tfjs reports (`tensorflow` for tfjs-node), recorded on every run. */
  name: string;
  /** One line saying why this backend runs — printed once at start-up. */
  reason: string;
}

let current: BackendChoice | undefined;

/** Reads `--backend` if given, else `SQUASH_BACKEND`, else `auto`. */
export function backendPreference(flag?: string): BackendPreference {
  const raw = (flag ?? process.env.SQUASH_BACKEND ?? 'auto').trim().toLowerCase();
  const value = raw === 'node' || raw === 'tfjs-node' ? 'tensorflow' : raw;
  if (!(BACKEND_PREFERENCES as readonly string[]).includes(value)) {
    throw new ConfigError(`unknown backend '${raw}'; expected one of ${BACKEND_PREFERENCES.join(', ')}`, {
      location: { path: flag !== undefined ? '--backend' : 'SQUASH_BACKEND' },
    });
  }
  return value as BackendPreference;
}

async function tryTensorflow(): Promise<string | undefined> {
  try {
    // Optional: present only when the user installed it; importing it registers the backend.
    await import('@tensorflow/tfjs-node' as string);
    return undefined;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

/** tfjs' cpu backend with squash's C++ kernels (@squash/native): ok, or why it cannot run. */
async function tryNative(tf: typeof import('@tensorflow/tfjs')): Promise<{ why: string; ok: boolean }> {
  try {
    const reg = registerNativeBackend(tf as unknown as Parameters<typeof registerNativeBackend>[0]);
    if (!reg.ok) return reg;
    if (!(await tf.setBackend('native'))) return { ok: false, why: 'tf.setBackend("native") returned false' };
    return reg;
  } catch (e) {
    return { ok: false, why: (e as Error).message.split('\n')[0]! };
  }
}

async function tryWasm(tf: typeof import('@tensorflow/tfjs')): Promise<string | undefined> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) return 'tf.setBackend("wasm") returned false';
    registerWasmKernels(tf);
    return undefined;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

/**
 * Chooses and initialises the tfjs backend once per process. A forced choice that cannot load is a
 * ConfigError; in `auto` mode each failure is named in the reason so users see why it fell back.
 */
export async function selectBackend(options: { prefer?: BackendPreference } = {}): Promise<BackendChoice> {
  const prefer = options.prefer ?? backendPreference();
  if (current && (prefer === 'auto' || prefer === current.name)) return current;
  const tf = await import('@tensorflow/tfjs');
  const skipped: string[] = [];

  if (prefer === 'auto' || prefer === 'tensorflow') {
    const why = await tryTensorflow();
    if (why === undefined && (await tf.setBackend('tensorflow'))) {
      return remember({ name: 'tensorflow', reason: 'tfjs-node is installed and loaded' });
    }
    if (prefer === 'tensorflow') throw new ConfigError(`backend 'tensorflow' (tfjs-node) is not available: ${why}`);
    skipped.push('tfjs-node not installed');
  }
  if (prefer === 'auto' || prefer === 'native') {
    const { ok, why } = await tryNative(tf);
    if (ok)
      return remember(
        {
          name: 'native',
          reason: `${reasonText('native', prefer, skipped)} (squash C++ kernels: ${why})`,
        },
        tf,
      );
    if (prefer === 'native') throw new ConfigError(`backend 'native' is not available: ${why}`);
    skipped.push(why);
  }
  if (prefer === 'auto' || prefer === 'wasm') {
    const why = await tryWasm(tf);
    if (why === undefined) return remember({ name: 'wasm', reason: reasonText('wasm', prefer, skipped) });
    if (prefer === 'wasm') throw new ConfigError(`backend 'wasm' failed to initialise: ${why}`);
    skipped.push(`wasm failed: ${why}`);
  }
  await tf.setBackend('cpu');
  return remember({ name: 'cpu', reason: reasonText('cpu', prefer, skipped) }, tf);
}

function reasonText(name: string, prefer: BackendPreference, skipped: string[]): string {
  if (prefer !== 'auto') return `forced by --backend/SQUASH_BACKEND=${prefer}`;
  return skipped.length ? `${skipped.join('; ')} → ${name}` : name;
}

function remember(choice: BackendChoice, tf?: typeof import('@tensorflow/tfjs')): BackendChoice {
  current = choice;
  if (tf && (choice.name === 'native' || choice.name === 'cpu')) firstWriteWithoutBanner(tf);
  return choice;
}

/** The one line of the banner tfjs' cpu backend prints on its first tensor write in Node. */
const NODE_BANNER = 'install our node backend';

/**
 * tfjs' cpu backend class (which the native backend instantiates too) prints an "install our node
 * backend" banner through console.warn on an instance's first tensor write when IS_NODE
 * (MathBackendCPU.write, `firstUse`). Squash chose the backend and says why at start-up, so the
 * first write happens here with exactly that banner filtered out; every other tfjs warning still
 * prints. (tfjs' own switch, `env().set('PROD', true)` from tfjs#5368, would silence them all, and
 * IS_NODE also selects tfjs' Node platform.)
 */
function firstWriteWithoutBanner(tf: typeof import('@tensorflow/tfjs')): void {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!args.some((a) => typeof a === 'string' && a.includes(NODE_BANNER))) warn(...args);
  };
  try {
    tf.tidy(() => void tf.scalar(0).dataSync());
  } finally {
    console.warn = warn;
  }
}

/** The backend selected in this process, if any. */
export function currentBackend(): BackendChoice | undefined {
  return current;
}
