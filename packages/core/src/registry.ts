import { ConfigError } from './errors.js';

/** A name → entry table whose lookup failure lists the known names. */
export interface Registry<T> {
  readonly kind: string;
  register(name: string, entry: T): void;
  get(name: string): T;
  has(name: string): boolean;
  names(): string[];
}

export function createRegistry<T>(kind: string): Registry<T> {
  const entries = new Map<string, T>();
  return {
    kind,
    register(name, entry) {
      if (entries.has(name)) throw new Error(`${kind} '${name}' is already registered`);
      entries.set(name, entry);
    },
    get(name) {
      const e = entries.get(name);
      if (e === undefined) {
        throw new ConfigError(`unknown ${kind} '${name}'; known: ${[...entries.keys()].join(', ')}`);
      }
      return e;
    },
    has: (name) => entries.has(name),
    names: () => [...entries.keys()],
  };
}
