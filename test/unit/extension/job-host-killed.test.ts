import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseEngineEvent } from '../../../src/protocol/engine-events';
import { clip, freshDir, ROOT } from '../engine/helpers';
import { isAlive } from '../resume/helpers';
import { until } from '../until';

const HOST = join(__dirname, 'fixtures/killed-host.ts');
const TSX = `--import=${pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href}`;

describe('extension: the engine outlives a host that is killed (window reload, VS Code killing its extension host)', function () {
  this.timeout(180_000);

  it('an extension host killed with SIGKILL mid-job: the engine finishes the job and reports it in its events file', async () => {
    const dir = freshDir('huaju4k-host-killed-');
    const stateDir = join(dir, 'state');
    const output = join(dir, 'clip.4k.mp4');
    // The engine's per-frame progress goes over IPC: the first send after the host died used to hit EPIPE, which
    // Node raised as an unhandled 'error' on `process`, and the engine died without a word. Frames to 4K keep the
    // engine busy, so that send comes before it has noticed the closed channel (as in a real job).
    const input = clip('host-killed-160x90.mp4', ['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25:duration=0.4']);
    const host = spawn(process.execPath, [HOST, join(ROOT, 'src/engine/cli.ts'), stateDir, input, output, 'null'], {
      env: { ...process.env, NODE_OPTIONS: TSX },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    host.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await until('the engine runs', () => out.includes('\n'), 120_000, 20);
    const { pid } = JSON.parse(out) as { pid: number };
    host.kill('SIGKILL');
    await new Promise((r) => host.once('exit', r));
    await until('the engine ended', () => !isAlive(pid), 120_000, 50);
    const file = readdirSync(stateDir).find((n) => n.endsWith('.events.jsonl'));
    assert.ok(file, 'the job has an events file');
    const events = readFileSync(join(stateDir, file), 'utf8')
      .split('\n')
      .map((l) => (l ? parseEngineEvent(JSON.parse(l)) : undefined))
      .filter((e) => e !== undefined);
    const last = events.at(-1);
    assert.equal(last?.type, 'done', `the engine's last event: ${JSON.stringify(last)}`);
    assert.ok(existsSync(output), 'the enhanced video is there');
  });
});
