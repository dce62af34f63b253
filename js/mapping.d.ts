// walkerOS's mapping functions, resolved by the package's Rust engine.
import type { MappingValue, Rule } from './index';

export declare function getMappingValue(
  value: unknown,
  mapping?: MappingValue | Record<string, unknown>,
  options?: { consent?: Record<string, boolean>; collector?: unknown; logger?: unknown },
): Promise<unknown>;

export declare function getMappingEvent(
  event: { name?: string; [key: string]: unknown },
  mapping?: Record<string, Record<string, Rule | Rule[]>>,
  collector?: unknown,
): Promise<{ eventMapping?: Rule; mappingKey?: string }>;

export declare function compileMappings<K extends string>(
  mappings: Record<K, MappingValue>,
): { resolve(event: Record<string, unknown>, options?: { consent?: Record<string, boolean>; collector?: unknown }): Partial<Record<K, unknown>> };
