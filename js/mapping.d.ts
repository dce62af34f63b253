// walkerOS's mapping functions, resolved by the package's Rust engine.
import type { MappingValue, Rule } from './index';

/** @walkeros/core's mapping context. `collector` is required: without it
 * the call rejects. Failures are logged through `collector.logger` and
 * counted in `collector.status.failed`. */
export interface MappingContext {
  collector: { consent?: Record<string, boolean>; logger: { error(message: string, context?: unknown): void }; status: { failed: number } };
  consent?: Record<string, boolean>;
  event?: Record<string, unknown>;
  [key: string]: unknown;
}

export declare function getMappingValue(
  value: unknown,
  mapping?: MappingValue | Record<string, unknown>,
  context?: MappingContext,
): Promise<unknown>;

export declare function getMappingEvent(
  event: { name?: string; [key: string]: unknown },
  mapping?: Record<string, Record<string, Rule | Rule[]>>,
  collector?: unknown,
): Promise<{ eventMapping?: Rule; mappingKey?: string }>;

export declare function compileMappings<K extends string>(
  mappings: Record<K, MappingValue>,
): { resolve(event: Record<string, unknown>, options?: { consent?: Record<string, boolean>; collector?: unknown }): Partial<Record<K, unknown>> };
