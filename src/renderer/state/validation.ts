/** The engine's verdict on the current document (debounced), by node. */
import { create } from 'zustand';
import type { WireIssue } from '../../protocol/messages';

/** Validation store. */
export interface ValidationState {
  errors: WireIssue[];
  warnings: WireIssue[];
  /** A message when the engine could not be asked. */
  unavailable?: string;
  set(v: { errors: WireIssue[]; warnings: WireIssue[]; unavailable?: string }): void;
}

export const useValidation = create<ValidationState>()((set) => ({
  errors: [],
  warnings: [],
  set: (v) => set({ errors: v.errors, warnings: v.warnings, unavailable: v.unavailable }),
}));
