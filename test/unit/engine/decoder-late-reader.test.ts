import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { FrameDecoder } from '../../../src/engine/ffmpeg/decoder';
import { findFfmpegTools } from '../../../src/engine/ffmpeg/ffmpeg-tools';
import { probeMedia } from '../../../src/engine/ffmpeg/probe';
import { basicClip } from './helpers';

/** Resolves once `pid` is gone (reaped by Node, so its 'exit' and Node's stdio flush have been scheduled). */
async function gone(pid: number): Promise<void> {
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(10);
  }
}

describe('engine: decoder read after ffmpeg already exited', function () {
  this.timeout(60000);

  // The pipeline creates the decoder, then awaits other work before its first pull. On a loaded machine a short
  // clip can be fully decoded (it fits in the pipe and the socket buffer) and ffmpeg reaped before that pull; Node
  // then resumes an unread child stdout and drops its data, and the run ended with "no-frames" on a valid file.
  it('delivers every frame even when the first pull comes after ffmpeg exited', async () => {
    const tools = findFfmpegTools();
    const input = basicClip(12);
    const info = await probeMedia(tools.ffprobe, input);
    const decoder = new FrameDecoder({ ffmpeg: tools.ffmpeg, info });
    assert.ok(decoder.pid, 'ffmpeg started');
    await gone(decoder.pid);
    await sleep(50); // past the exit callback's nextTick work
    const frames: Buffer[] = [];
    for await (const f of decoder.frames()) frames.push(f.data);
    assert.equal(frames.length, 12, 'frames delivered');
    const prompt: Buffer[] = [];
    for await (const f of new FrameDecoder({ ffmpeg: tools.ffmpeg, info }).frames()) prompt.push(f.data);
    assert.ok(Buffer.concat(frames).equals(Buffer.concat(prompt)), 'same bytes as a decoder read at once');
  });
});
