export interface TargetDirs {
  os: 'win32' | 'linux' | 'darwin';
  arch: 'x64' | 'arm64';
}
export declare const TARGETS: {
  readonly 'win32-x64': TargetDirs;
  readonly 'win32-arm64': TargetDirs;
  readonly 'linux-x64': TargetDirs;
  readonly 'linux-arm64': TargetDirs;
  readonly 'darwin-x64': TargetDirs;
  readonly 'darwin-arm64': TargetDirs;
};
export type Target = keyof typeof TARGETS;
export declare function packageFile(target: Target): string;
export declare function nativeIncludes(target: Target): string[];
export declare function isNative(path: string): boolean;
export declare function nativeProblems(target: Target, files: readonly string[]): string[];
