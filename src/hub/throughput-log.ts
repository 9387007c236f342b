/**
 * The hub's periodic log line, after blankend's (`stream recv frames/bytes`, `stream broadcast frames/bytes
 * clients`, `relay send/recv`, `ffmpeg decoded fps`), in one line from the status snapshot.
 */
import type { HubStatus } from '../protocol/hub-status';

export function throughputLine(s: HubStatus): string {
  const parts = [
    `hub: recv frames=${s.ingest.frames} bytes=${s.ingest.bytes} fps=${s.ingest.fps} rejected=${s.ingest.rejected}`,
    `broadcast frames=${s.broadcast.frames} fps=${s.broadcast.fps} clients=${s.subscribers.length}`,
  ];
  if (s.relay.enabled) {
    const r = s.relay;
    parts.push(
      `relay send frames=${r.send.frames} dropped=${r.send.dropped} recv frames=${r.recv.frames} rejected=${r.recv.rejected}`,
    );
  }
  const decoded = s.codecSessions.reduce((n, c) => n + c.frames, 0);
  if (s.codecSessions.length > 0) parts.push(`decoded frames=${decoded} sessions=${s.codecSessions.length}`);
  return parts.join(' | ');
}
