export type ModelErrorReason = 'model-not-found' | 'model-corrupt' | 'model-unsupported';

/** A model that cannot be used. The message names the file; the hint says what to do. */
export class ModelError extends Error {
  constructor(
    readonly reason: ModelErrorReason,
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = 'ModelError';
  }
}
