/**
 * The hub's side of the AI core: starts and stops it (at start-up with `--ai`, or at run time with
 * `POST /api/v1/ai/config {"enabled": …}`), says what it does in `GET /api/v1/ai/status`, and answers
 * `POST /api/v1/ai/process` (one JPEG in, the enhanced JPEG out).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AiOffStatus, AiStatus } from '../../protocol/hub-status';
import { isCompleteJpeg } from '../jpeg';
import type { BodyResult } from '../json-body';
import { AiCore, type AiInput, type AiOutput } from './ai-core';
import type { AiSettings } from './ai-settings';

export const AI_PATHS: ReadonlySet<string> = new Set(['/api/v1/ai/status', '/api/v1/ai/process', '/api/v1/ai/config']);

const OFF_REASON = 'the AI core is off: start the hub with --ai, or POST /api/v1/ai/config {"enabled": true}';

type Send = (res: ServerResponse, code: number, body: unknown, extra?: Record<string, string>) => void;

export class AiHost {
  private core: AiCore | null = null;
  private switching: Promise<void> = Promise.resolve();
  private lastError: string | null = null;

  constructor(
    private readonly settings: () => AiSettings,
    private readonly onOutput: AiOutput,
    private readonly log: (line: string) => void,
  ) {}

  get running(): boolean {
    return this.core !== null;
  }

  /** Starts the core (loads the model on every device); rejects with the loader's error, which status keeps. */
  start(): Promise<void> {
    this.switching = this.switching.then(async () => {
      if (this.core) return;
      try {
        this.core = await AiCore.start(this.settings(), this.onOutput);
        this.lastError = null;
      } catch (err) {
        this.lastError = err instanceof Error ? err.message : String(err);
        throw err;
      }
    });
    return this.switching;
  }

  stop(): Promise<void> {
    this.switching = this.switching
      .catch(() => undefined)
      .then(async () => {
        const core = this.core;
        this.core = null;
        await core?.close();
      });
    return this.switching;
  }

  /** True when the core took the frame (it is running). */
  offer(input: AiInput): boolean {
    if (!this.core) return false;
    this.core.offer(input);
    return true;
  }

  forget(source: string): void {
    this.core?.forget(source);
  }

  async idle(): Promise<void> {
    await this.core?.idle();
  }

  status(): AiStatus | AiOffStatus {
    if (this.core) return { ...this.core.status(), lastError: this.core.status().lastError ?? this.lastError };
    return { enabled: false, reason: OFF_REASON, model: this.settings().model, devices: [], lastError: this.lastError };
  }

  /** Answers the three AI endpoints (`path` is one of AI_PATHS). */
  async answer(req: IncomingMessage, res: ServerResponse, path: string, send: Send, body: BodyResult): Promise<void> {
    const method = req.method ?? 'GET';
    const want = path === '/api/v1/ai/status' ? 'GET' : 'POST';
    if (method !== want && !(want === 'GET' && method === 'HEAD')) {
      send(res, 405, { detail: `use ${want} for ${path}` }, { allow: want });
      return;
    }
    if (path === '/api/v1/ai/status') send(res, 200, this.status());
    else if (path === '/api/v1/ai/config') await this.configure(res, send, body);
    else await this.process(res, send, body);
  }

  private async configure(res: ServerResponse, send: Send, read: BodyResult): Promise<void> {
    if (!('body' in read)) return;
    let json: unknown;
    try {
      json = JSON.parse(read.body.toString('utf8') || '{}');
    } catch {
      send(res, 400, { detail: 'request body is not valid JSON' });
      return;
    }
    const enabled = (json as { enabled?: unknown } | null)?.enabled;
    if (typeof json !== 'object' || json === null || typeof enabled !== 'boolean' || Object.keys(json).length !== 1) {
      send(res, 400, { detail: 'ai/config takes {"enabled": true|false}; model and devices are start-up options' });
      return;
    }
    try {
      await (enabled ? this.start() : this.stop());
    } catch (err) {
      send(res, 500, { ok: false, detail: `could not start the AI core: ${(err as Error).message}` });
      return;
    }
    this.log(`hub: AI core ${enabled ? 'on' : 'off'}`);
    send(res, 200, { ok: true, status: this.status() });
  }

  private async process(res: ServerResponse, send: Send, read: BodyResult): Promise<void> {
    if (!('body' in read)) return;
    const core = this.core;
    if (!core) {
      send(res, 503, { ok: false, detail: OFF_REASON });
      return;
    }
    if (!isCompleteJpeg(read.body)) {
      send(res, 400, { ok: false, detail: `the body (${read.body.length} bytes) is not one complete JPEG` });
      return;
    }
    try {
      const jpeg = await core.processOne(read.body);
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length, 'cache-control': 'no-store' });
      res.end(jpeg);
    } catch (err) {
      send(res, 500, { ok: false, detail: `processing failed: ${(err as Error).message}` });
    }
  }

  async close(): Promise<void> {
    await this.stop();
  }
}
