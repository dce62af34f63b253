// walkeros-destination-hubspot/dev: the package's schemas and step examples.

/** A JSON Schema (draft-07) object. */
export type JsonSchema = Record<string, unknown>;

export declare const schemas: {
  /** `config.settings`. */
  settings: JsonSchema;
  /** A mapping rule's `settings`. */
  mapping: JsonSchema;
};

/** One effect: `['fetch', 'METHOD path', body]`. */
export type StepEffect = [callable: string, ...args: unknown[]];

export interface StepExample {
  title: string;
  description: string;
  in: { name: string; [key: string]: unknown };
  mapping?: Record<string, unknown>;
  /** Where the rule sits when not at the event's own entity/action: `'* *'`. */
  match?: string;
  settings: Record<string, unknown>;
  out: StepEffect[];
}

export declare const examples: {
  env: { init: { fetch: undefined }; push: { fetch: typeof fetch }; simulation: string[] };
  step: Record<string, StepExample>;
};

declare const dev: { schemas: typeof schemas; examples: typeof examples };
export default dev;
