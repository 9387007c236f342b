/** Command ids, in one place: code registers them, the manifest contributes them, a unit test checks both agree. */
export const COMMANDS = {
  enhance: 'huaju4k.enhance',
  enhanceWithOptions: 'huaju4k.enhanceWithOptions',
  resume: 'huaju4k.resume',
  cancel: 'huaju4k.cancel',
  cancelAll: 'huaju4k.cancelAll',
  showMonitor: 'huaju4k.showMonitor',
  refreshVideos: 'huaju4k.refreshVideos',
  revealOutput: 'huaju4k.revealOutput',
  openOutput: 'huaju4k.openOutput',
  openLog: 'huaju4k.openLog',
  openSettings: 'huaju4k.openSettings',
  installFfmpeg: 'huaju4k.installFfmpeg',
  addBackend: 'huaju4k.addBackend',
  removeBackend: 'huaju4k.removeBackend',
  testBackend: 'huaju4k.testBackend',
  refreshBackends: 'huaju4k.refreshBackends',
  setBackendToken: 'huaju4k.setBackendToken',
  showBackendPreview: 'huaju4k.showBackendPreview',
} as const;

export type CommandId = (typeof COMMANDS)[keyof typeof COMMANDS];
