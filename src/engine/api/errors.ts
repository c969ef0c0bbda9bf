/** Errors the engine API answers with. */

/** A request the engine refused, with the graph issues when there are some. */
export class RequestError extends Error {
  override name = 'RequestError';
  constructor(
    message: string,
    readonly issues?: { path: string; nodeId?: string; message: string }[],
  ) {
    super(message);
  }
}
