/**
 * The node catalogue as it travels (`nodes.catalog`): every node kind the engine knows — the
 * built-in ones and those plugins registered — with ports, parameters as JSON Schema and where
 * each kind comes from, plus what the plugin loader did. Plain JSON, so the page can render a kind
 * it was not built with.
 */
import type { NodeCategory, PortType } from '../nodes/types';

/** Bounds of one catalogue answer: a plugin cannot make the page's first request unbounded. */
export const CATALOG_LIMITS = {
  /** Kinds listed; more are dropped (and counted in `dropped`). */
  kinds: 1000,
  /** Characters of a doc paragraph, a title, a port doc or a refusal reason. */
  text: 4000,
  /** Characters of one kind's parameter JSON Schema; a larger one is replaced by `{ type: 'object' }`. */
  schema: 64_000,
  /** Ports per side, requirements per kind, plugins listed. */
  items: 64,
} as const;

/** A port of a catalogue kind. */
export interface CatalogPort {
  name: string;
  type: PortType;
  optional?: boolean;
  doc: string;
  /** An `image` port (or `prior` input) of a shape-agnostic step: it also carries latents (the engine resolves the space from the wiring). */
  anySpace?: boolean;
  /** `prior` outputs: the space the prior models (absent: images). */
  space?: 'image' | 'latent';
}

/** A capability a kind needs of what is wired into `port`. */
export interface CatalogRequirement {
  port: string;
  capability: 'adjoint' | 'vjp' | 'proxL2' | 'denoiseVjp';
  /** Only for some parameter values (the engine decides which when it validates). */
  conditional?: boolean;
  /** What the engine does instead when it is missing; absent: the graph is refused. */
  fallback?: string;
}

/**
 * The JSON Schema of a kind's parameters (zod 4's `z.toJSONSchema`, input side): an object
 * whose properties carry `default`, `minimum`/`maximum`, `enum`, `unit` and `description`.
 */
export interface CatalogParamSchema {
  type?: 'object';
  properties?: Record<string, Record<string, unknown>>;
  required?: string[];
  [key: string]: unknown;
}

/** A plugin a kind comes from. */
export interface CatalogOrigin {
  name: string;
  version: string;
}

/** One node kind. */
export interface CatalogKind {
  kind: string;
  title: string;
  category: NodeCategory;
  doc: string;
  inputs: CatalogPort[];
  outputs: CatalogPort[];
  params: CatalogParamSchema;
  requires: CatalogRequirement[];
  /** The task id an operator kind builds (e.g. `deblur-gauss`). */
  task?: string;
  /** `'builtin'`, or the plugin that registered the kind. */
  plugin: 'builtin' | CatalogOrigin;
}

/** What the plugin loader did with one plugin folder. */
export interface CatalogPlugin {
  name: string;
  version?: string;
  /** The folder it was found in. */
  path?: string;
  status: 'loaded' | 'refused';
  /** Why it was refused (or what it warned about). */
  reason?: string;
  description?: string;
  /** Node kinds it registered. */
  kinds: string[];
}

/** The answer of `nodes.catalog`. */
export interface NodeCatalog {
  engineVersion: string;
  kinds: CatalogKind[];
  plugins: CatalogPlugin[];
  /** Kinds left out by {@link CATALOG_LIMITS} (0 normally). */
  dropped: number;
}
