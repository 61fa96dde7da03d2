/**
 * Merging user options over defaults, for the entry points whose options often arrive as
 * forwarded command-line flags or notebook parameters (generator, datasets, models, training step).
 */

/**
 * `{ ...defaults, ...options }`, except that keys given as `undefined` keep their default: a
 * caller forwarding an optional flag (`{ length: args.length }`) means "not set", not "erase".
 */
export function withDefaults<D extends object, O extends object>(defaults: D, options: O | undefined): D & O {
  const merged = { ...defaults } as D & O;
  for (const [key, value] of Object.entries(options ?? {})) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}
