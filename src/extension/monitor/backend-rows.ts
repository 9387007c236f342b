/** Maps the hub client's typed status onto the monitor's backends row. */
import type { HubStatus } from '../../protocol/hub-status';
import type { MonitorBackendRow } from '../../protocol/webview-messages';

export function backendRowFromHubStatus(
  name: string,
  url: string,
  status: HubStatus | undefined,
  error?: string,
): MonitorBackendRow {
  if (!status) return { name, url, reachable: false, ...(error ? { error } : {}) };
  const relay = status.relay;
  return {
    name,
    url,
    reachable: true,
    subscribers: status.subscribers.length,
    fps: status.broadcast.fps,
    relay: relay.enabled ? (relay.connected ? 'connected' : 'disconnected') : 'off',
    ...(relay.enabled && relay.heartbeatAgeMs !== null ? { heartbeatAgeS: relay.heartbeatAgeMs / 1000 } : {}),
    ...(error ? { error } : {}),
  };
}
