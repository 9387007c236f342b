// The six VS Code platform packages and which native files each carries: onnxruntime-node's binding folder and
// zeromq's prebuilt addons for that OS and CPU, nothing of the others (tools/package/build.mjs, the packaging test).

/** VS Code target → onnxruntime-node / zeromq folder names (Node's process.platform / process.arch). */
export const TARGETS = {
  'win32-x64': { os: 'win32', arch: 'x64' },
  'win32-arm64': { os: 'win32', arch: 'arm64' },
  'linux-x64': { os: 'linux', arch: 'x64' },
  'linux-arm64': { os: 'linux', arch: 'arm64' },
  'darwin-x64': { os: 'darwin', arch: 'x64' },
  'darwin-arm64': { os: 'darwin', arch: 'arm64' },
};

/** The package file `npm run package` writes for a target. */
export const packageFile = (target) => `huaju4k-${target}.vsix`;

/** .vscodeignore lines that let one target's native folders into its package. */
export function nativeIncludes(target) {
  const { os, arch } = TARGETS[target];
  const ort = `!node_modules/onnxruntime-node/bin/napi-v6/${os}/${arch}`;
  // On macOS the binding loads @rpath/libonnxruntime.1.dylib; npm ships libonnxruntime.1.30.0.dylib as a 44 MB copy.
  const ortFiles =
    os === 'darwin' ? [`${ort}/onnxruntime_binding.node`, `${ort}/libonnxruntime.1.dylib`] : [`${ort}/**`];
  return [...ortFiles, `!node_modules/zeromq/build/${os}/${arch}/**`];
}

const NATIVE = /\.(node|so(\.\d+)*|dylib|dll)$/;

/** True for a file a target's OS loads natively (an addon or a shared library). */
export const isNative = (path) => NATIVE.test(path);

/**
 * What is wrong with a package's native files for `target` (empty when nothing): each must sit in the target's own
 * onnxruntime-node or zeromq folder and be of the target OS's kind; Windows packages need DirectML.dll.
 */
export function nativeProblems(target, files) {
  const { os, arch } = TARGETS[target];
  const native = files.filter(isNative);
  const problems = [];
  const own = [`onnxruntime-node/bin/napi-v6/${os}/${arch}/`, `zeromq/build/${os}/${arch}/`];
  const kind = { win32: /\.(node|dll)$/, linux: /\.(node|so(\.\d+)*)$/, darwin: /\.(node|dylib)$/ }[os];
  for (const f of native) {
    if (!own.some((dir) => f.includes(`node_modules/${dir}`))) problems.push(`${f} is not in a ${os}/${arch} folder`);
    else if (!kind.test(f)) problems.push(`${f} is not a ${os} library`);
  }
  if (!native.some((f) => f.includes('zeromq/build/'))) problems.push('no zeromq addon');
  if (os === 'win32' && !native.some((f) => f.endsWith('/DirectML.dll'))) problems.push('no DirectML.dll');
  return problems;
}
