/**
 * `huaju4k hub [--host H] [--port N] [--relay tcp://host:port] [--identity ID] [--token T] [--config FILE]
 *  [--broadcast-source ingress|relay] [--cpu]` — runs the stream hub until SIGINT/SIGTERM; returns the exit code.
 */
import { HubConfigError, resolveHubConfig } from './config';
import { HubServer } from './server';

export const HUB_USAGE = `usage: huaju4k hub [options]
  --host H                 address to bind (default 127.0.0.1; use 0.0.0.0 only behind a token)
  --port N                 port (default 8765; 0 lets the OS pick)
  --relay tcp://HOST:PORT  enable the ZeroMQ relay to this ROUTER endpoint
  --identity ID            relay identity (default AI_WORKER)
  --token T                require "Authorization: Bearer T" (or ?token=T) on every endpoint
  --config FILE            JSON config: blankend's {"stream": {...}} keys (see docs/dev/hub.md)
  --broadcast-source S     what subscribers receive: ingress (default) or relay
  --cpu                    never try CUDA for /video_codec
  --bind-relay tcp://H:P   bind a ROUTER there: AI workers (huaju4k ai-worker --relay …) dial in and process
  --ai                     run the AI core: frames in → the model → processed JPEGs out (docs/dev/hub.md)
  --model ID|PATH|null     model for --ai (default realesr-general-x4v3; null = the engine's nearest ×4)
  --devices LIST           one model worker per device: cpu,cpu or 0 (the GPU); default cpu
  --scale 2|4              output factor (default the model's)
  --target WxH             fit the output inside this box instead
  --temporal S             off|low|medium|high: per-source temporal stage (default medium)
env: BLANKEND_RELAY_ENABLED, BLANKEND_ZMQ_ENDPOINT, BLANKEND_ZMQ_IDENTITY, HUAJU4K_HUB_<STREAM_KEY>`;

const VALUE_FLAGS: Record<string, string> = {
  '--host': 'host',
  '--port': 'port',
  '--relay': 'zmq_endpoint',
  '--identity': 'zmq_identity',
  '--token': 'token',
  '--broadcast-source': 'broadcast_source',
  '--bind-relay': 'relay_bind',
  '--model': 'ai_model',
  '--devices': 'ai_devices',
  '--scale': 'ai_scale',
  '--target': 'ai_target',
  '--temporal': 'ai_temporal',
};

export interface ParsedHubArgs {
  configFile?: string;
  flags: Record<string, unknown>;
  help: boolean;
}

export function parseHubArgs(args: string[]): ParsedHubArgs {
  const flags: Record<string, unknown> = {};
  let configFile: string | undefined;
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : undefined;
    const value = () => {
      if (inline !== undefined) return inline;
      const v = args[++i];
      if (v === undefined) throw new HubConfigError(`${name} needs a value`);
      return v;
    };
    if (name === '--help' || name === '-h') help = true;
    else if (name === '--cpu') flags.prefer_gpu = false;
    else if (name === '--ai') flags.ai_enabled = true;
    else if (name === '--config') configFile = value();
    else if (name in VALUE_FLAGS) flags[VALUE_FLAGS[name]] = value();
    else throw new HubConfigError(`unknown option ${a}\n${HUB_USAGE}`);
  }
  if (flags.zmq_endpoint !== undefined) flags.relay_enabled = true;
  return { configFile, flags, help };
}

export const AI_WORKER_USAGE = `usage: huaju4k ai-worker --relay tcp://HOST:PORT [options]
  Connects to a blankend ROUTER as its AI worker (a DEALER with identity AI_WORKER, or --identity): each frame a bus
  client sends goes through the model and back to that client. Takes the hub's --ai options (--model, --devices,
  --scale, --target, --temporal) and --identity, --token, --config; --port N serves the status API (default: any
  free port, printed).`;

/** `huaju4k ai-worker --relay …`: the hub with only the relay and the AI core doing work. */
export function runAiWorkerCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${AI_WORKER_USAGE}\n`);
    return Promise.resolve(0);
  }
  if (!args.some((a) => a === '--relay' || a.startsWith('--relay='))) {
    process.stderr.write(
      `huaju4k ai-worker: --relay tcp://HOST:PORT is required (the blankend ROUTER to serve)\n${AI_WORKER_USAGE}\n`,
    );
    return Promise.resolve(2);
  }
  const port = args.some((a) => a === '--port' || a.startsWith('--port=')) ? [] : ['--port', '0'];
  return runHubCommand(['--ai', ...port, ...args]);
}

export async function runHubCommand(args: string[]): Promise<number> {
  let hub: HubServer;
  try {
    const parsed = parseHubArgs(args);
    if (parsed.help) {
      process.stdout.write(`${HUB_USAGE}\n`);
      return 0;
    }
    const config = resolveHubConfig({ file: parsed.configFile, env: process.env, flags: parsed.flags });
    hub = new HubServer(config, { log: (line) => process.stderr.write(`${line}\n`) });
    const addr = await hub.listen();
    process.stdout.write(`huaju4k hub listening on ${addr.url}\n`);
    const ai = hub.aiStatus();
    if (ai.enabled) {
      const devices = ai.devices.map((d) => `${d.id} (${d.executionProvider})`).join(', ');
      process.stdout.write(`huaju4k hub AI core: ${ai.model} ×${ai.scale} on ${devices}\n`);
    }
    if (config.relayEnabled) {
      process.stdout.write(`huaju4k hub relay → ${config.relay.endpoint} as ${config.relay.identity}\n`);
    }
    if (config.host !== '127.0.0.1' && config.host !== 'localhost' && config.token === null) {
      process.stderr.write(`huaju4k hub: warning: bound to ${config.host} without --token; anyone can connect\n`);
    }
  } catch (err) {
    const e = err as Error & { code?: string };
    const hint = e.code === 'EADDRINUSE' ? ' (port taken: pick another with --port, or --port 0)' : '';
    process.stderr.write(`huaju4k hub: ${e.message}${hint}\n`);
    return 2;
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await hub.close();
  return 0;
}
