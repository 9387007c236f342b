// The monitor panel's public surface for the rest of the extension.
export type { MonitorJobControls, MonitorLogger } from './job-controls';
export { MonitorPanel, type MonitorPanelOptions, type ShowOptions } from './monitor-panel';
