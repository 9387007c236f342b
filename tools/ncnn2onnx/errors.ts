/** Any problem with an ncnn model that stops the conversion. The message names the file and what to do. */
export class ConversionError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'ConversionError';
  }
}
