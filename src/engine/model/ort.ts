import type * as Ort from 'onnxruntime-node';
import { ExitCode } from '../../protocol/engine-events';
import { EngineError } from '../errors';

let loaded: typeof Ort | undefined;

/**
 * onnxruntime-node, loaded on first use rather than when the engine starts: on a platform it has no build for
 * (an Intel Mac) `huaju4k --help`, `hub`, `jobs`, `probe` and `--model null` still work, and a run that needs a
 * model stops with a message that says why instead of a stack trace at startup.
 */
export function ort(): typeof Ort {
  if (loaded) return loaded;
  try {
    loaded = require('onnxruntime-node') as typeof Ort;
  } catch (err) {
    throw runtimeMissing(err);
  }
  return loaded;
}

/** What a user on `platform` is told when the runtime cannot be loaded there. */
export function runtimeMissing(err: unknown, platform = `${process.platform}-${process.arch}`): EngineError {
  const detail = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  const intelMac = platform === 'darwin-x64';
  return new EngineError(
    ExitCode.environment,
    'runtime-missing',
    intelMac
      ? 'ONNX Runtime, which runs the upscaling models, publishes no build for Intel Macs (darwin-x64)'
      : `ONNX Runtime cannot be loaded on ${platform}: ${detail}`,
    intelMac
      ? 'upscale on a Mac with Apple silicon, on Windows or Linux, or on a GPU server through VS Code Remote; the stream hub and Backends view work here'
      : `install the huaju4k package built for ${platform} (huaju4k-${platform}.vsix), or reinstall onnxruntime-node`,
  );
}
