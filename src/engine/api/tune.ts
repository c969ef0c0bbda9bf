/**
 * `tune.start` / `tune.cancel` for the studio hosts: the Tune panel's request becomes the search
 * `lagrange tune` runs (the same `--param` ranges checked against the node schemas, the same
 * runTune), in its own engine thread, into a folder named by a hash of the request, so the same
 * request again resumes from the rows already there. One search at a time per connection.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { WireIssue } from '../../protocol/messages';
import type { TuneRequest, WireTuneEvent } from '../../protocol/tune';
import type { GraphDocument } from '../graph/format';
import { canonical } from '../canonical';
import { parseRange } from '../tune/space';
import type { TuneThread } from '../tune/thread';
import { tuneInThread } from '../tune/thread';
import type { TuneSpec } from '../tune/tune';
import { rangeFlag } from '../tune/wire';
import { RequestError } from './errors';

/** What {@link TuneSessions} needs from its host. */
export interface TuneHost {
  /** Where search folders go (default `~/.lagrange/tunes`). */
  dir?: string;
  /** Receives every event of every search, by tune id. */
  emit: (tuneId: string, e: WireTuneEvent) => void;
  /** The host's check of the images a search would read; issues refuse it. */
  checkImages?: (refs: string[]) => WireIssue[];
}

/** The searches of one host connection. */
export class TuneSessions {
  private readonly live = new Map<string, TuneThread>();
  private next = 1;

  constructor(private readonly host: TuneHost) {}

  /**
   * Starts a search of `doc` (already parsed and validated by the caller).
   * @throws RequestError while another search runs, for images the host may not read, or for an LPIPS objective without a network
   */
  start(req: TuneRequest, doc: GraphDocument): { tuneId: string } {
    if (this.live.size > 0) throw new RequestError('tune.start: a search is already running; cancel it or wait for it to finish');
    const refused = this.host.checkImages?.([...req.val, ...req.test]) ?? [];
    if (refused.length) throw new RequestError(refused.map((i) => i.message).join('; '), refused);
    // The ranges are checked here, against the node schemas, so a wrong one is the request's answer.
    const params = req.ranges.map(rangeFlag);
    try {
      params.forEach((f) => parseRange(f, doc));
    } catch (e) {
      throw new RequestError(`tune.start: ${(e as Error).message}`);
    }
    if (req.objective === 'lpips' && !req.lpips)
      throw new RequestError('tune.start: the LPIPS objective needs an LPIPS network folder (the Metrics node’s lpips parameter; docs/models.md)');
    const key = createHash('sha256')
      .update(canonical({ ...req, doc }))
      .digest('hex')
      .slice(0, 12);
    const folder = join(this.host.dir ?? join(homedir(), '.lagrange', 'tunes'), `${doc.name.replace(/[^\w.-]/g, '_')}-${req.task}-${key}`);
    mkdirSync(folder, { recursive: true });
    // The graph as the editor holds it, as a file: rows name it, as they name a preset.
    const graph = join(folder, 'graph.lagrange.json');
    writeFileSync(graph, `${JSON.stringify(doc, null, 2)}\n`);
    const spec: TuneSpec = {
      preset: graph,
      task: req.task,
      params,
      val: req.val,
      test: req.test,
      budget: req.budget,
      objective: req.objective,
      seed: req.seed ?? 0,
      ...(req.sigma !== undefined ? { sigma: req.sigma } : {}),
      ...(req.iterations ? { iterations: req.iterations } : {}),
      ...(req.lpips ? { lpips: req.lpips } : {}),
    };
    const tuneId = `tune-${this.next++}`;
    const budget = 'trials' in req.budget ? `--budget ${req.budget.trials}` : `--budget ${req.budget.nfe}nfe`;
    const command = `studio Tune panel (as lagrange tune ${graph} --task ${req.task} ${spec.params.map((p) => `--param ${p}`).join(' ')} ${budget} --objective ${req.objective})`;
    const thread = tuneInThread(spec, folder, command, (e) => this.host.emit(tuneId, e));
    this.live.set(tuneId, thread);
    void thread.done.then(() => this.live.delete(tuneId));
    this.host.emit(tuneId, { type: 'tune-phase', phase: 'starting', detail: `searching in ${folder}` });
    return { tuneId };
  }

  /** Asks search `tuneId` to stop after the row in flight. */
  cancel(tuneId: string): { cancelled: boolean } {
    const t = this.live.get(tuneId);
    if (!t) return { cancelled: false };
    t.cancel();
    return { cancelled: true };
  }

  /** Ends every search at once (the client went away). */
  dispose(): void {
    for (const t of this.live.values()) void t.terminate();
    this.live.clear();
  }
}
