/** Whether the engine host refused this page (browser mode: a missing or wrong access token). */
import { create } from 'zustand';

/** The connection store: `refused` says why the engine will not answer; Run is off while it is set. */
export interface ConnectionState {
  refused?: string;
  setRefused(why: string | undefined): void;
}

export const useConnection = create<ConnectionState>()((set) => ({
  setRefused: (refused) => set({ refused }),
}));
