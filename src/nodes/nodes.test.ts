import { describe, expect, it } from 'vitest';
import { nodeKind, nodeKinds, operatorTask } from './index';

describe('node kinds', () => {
  it('declares every kind the solvers are built from', () => {
    const names = nodeKinds().map((k) => k.kind);
    for (const k of [
      'ImageInput',
      'MeasurementInput',
      'Simulate',
      'SuperResolution',
      'BoxInpainting',
      'RandomInpainting',
      'GaussianBlur',
      'MotionBlur',
      'PhaseRetrieval',
      'NonlinearBlur',
      'HDR',
      'ScoreModel',
      'Schedule',
      'State',
      'Denoise',
      'XUpdate',
      'ZUpdate',
      'DualUpdate',
      'Noising',
      'DPSGuidance',
      'AnnealedLangevin',
      'ProbabilityFlowODE',
      'Preview',
      'Output',
      'Metrics',
    ]) {
      expect(names).toContain(k);
    }
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(nodeKinds().map((k) => [k.kind, k] as const))('%s has documented, uniquely named ports and default parameters', (_name, kind) => {
    expect(kind.doc.length).toBeGreaterThan(40);
    for (const ports of [kind.inputs, kind.outputs]) {
      expect(new Set(ports.map((p) => p.name)).size).toBe(ports.length);
      for (const p of ports) expect(p.doc.length).toBeGreaterThan(0);
    }
    for (const r of kind.requires ?? []) expect(kind.inputs.map((p) => p.name)).toContain(r.port);
    const defaults = kind.params.safeParse({});
    // Only file-backed inputs have a required parameter (the path).
    expect(defaults.success || kind.kind === 'MeasurementInput').toBe(true);
  });

  it('maps operator nodes to tasks and rejects bad parameters', () => {
    expect(operatorTask('GaussianBlur')).toBe('deblur-gauss');
    expect(operatorTask('Denoise')).toBeUndefined();
    expect(nodeKind('GaussianBlur')!.params.safeParse({ kernelSize: 4 }).success).toBe(false);
    expect(nodeKind('Schedule')!.params.safeParse({ iterations: -2 }).success).toBe(false);
  });
});
