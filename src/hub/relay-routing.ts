/**
 * Where a frame received from the ROUTER goes when the frame handler declined it. One decision, computed once per
 * frame, so every target gets the frame exactly once (the seed enqueued the echo twice when echo_back was on —
 * its risk 2) and local subscribers see it only when the relay is the configured broadcast source (risk 4).
 */
import type { BroadcastSource, RelayConfig } from './config';

export interface ReceivedRoute {
  /** Client ids to send the frame to over the relay, each once, in order. */
  targets: string[];
  /** Whether local subscribers get the frame. */
  broadcast: boolean;
}

export function routeReceivedFrame(
  relay: Pick<RelayConfig, 'echoBack' | 'forwardRecvEnabled' | 'forwardRecvClientIds' | 'forwardRecvOnly'>,
  broadcastSource: BroadcastSource,
  sourceClientId: string,
  ownAnswer = false,
): ReceivedRoute {
  const forwards = relay.forwardRecvEnabled ? relay.forwardRecvClientIds.filter((id) => id !== sourceClientId) : [];
  const forwarding = forwards.length > 0;
  // `ownAnswer`: the worker's answer to a frame we sent (relay.ts tells them apart). Echoing it would hand the
  // processed frame back to the worker as a raw one, and a worker that answers every frame would loop forever.
  const echo = relay.echoBack && !ownAnswer && !(forwarding && relay.forwardRecvOnly);
  const targets = echo ? [sourceClientId, ...forwards] : forwards;
  return { targets: [...new Set(targets)], broadcast: broadcastSource === 'relay' };
}

/**
 * Ingress frames (from /video_in or a decoder) go to the relay's default client when the relay is on, and to local
 * subscribers when ingress is the broadcast source — or when there is no relay to bring them back.
 */
export function routeIngressFrame(
  broadcastSource: BroadcastSource,
  relayEnabled: boolean,
): { toRelay: boolean; broadcast: boolean } {
  return { toRelay: relayEnabled, broadcast: broadcastSource === 'ingress' || !relayEnabled };
}
