/** Request validation at the protocol boundary: a document must be an object; its contents are the engine's to check. */
import { describe, expect, it } from 'vitest';
import { parseRequest } from './messages';

describe('parseRequest', () => {
  it('refuses a graph document that is not an object, naming the field, and passes any object on for the engine to parse', () => {
    for (const doc of [[], 'ddiff', null, 3]) {
      expect(() => parseRequest('graph.validate', { doc })).toThrow('graph.validate: doc: expected a graph document (a JSON object)');
      expect(() => parseRequest('run.start', { doc })).toThrow('run.start: doc: expected a graph document (a JSON object)');
      expect(() => parseRequest('tune.start', { doc })).toThrow(/^tune\.start: doc: expected a graph document \(a JSON object\)/);
    }
    const doc = { format: 'lagrange-graph', nodes: 'not checked here' };
    expect(parseRequest('run.start', { doc, seed: 3 }).params).toEqual({ doc, seed: 3 });
  });
});
