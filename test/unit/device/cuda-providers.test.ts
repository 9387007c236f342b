import assert from 'node:assert/strict';
import { copyFileSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { linkCudaProviders } from '../../../src/engine/device/cuda-providers';
import { openModel } from '../../../src/engine/device/open-model';
import { EngineError } from '../../../src/engine/errors';
import { freshDir } from '../engine/helpers';

const SHARED = 'libonnxruntime_providers_shared.so';
const CUDA = 'libonnxruntime_providers_cuda.so';

const isCudaError = (re: RegExp, hint: RegExp) => (e: unknown) => {
  assert.ok(e instanceof EngineError, String(e));
  assert.equal(e.reason, 'cuda-providers');
  assert.equal(e.code, 3);
  assert.match(e.message, re);
  assert.match(e.hint ?? '', hint);
  return true;
};

describe('gpu/cuda-providers: huaju4k.cudaProviderPath (HUAJU4K_CUDA_PROVIDERS)', () => {
  let dir: string;
  let binding: string;
  beforeEach(() => {
    dir = freshDir('huaju4k-cuda-');
    binding = join(dir, 'binding');
    mkdirSync(binding);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const linux = (bindingDir: string | undefined) => ({ bindingDir, platform: 'linux' as const, arch: 'x64' });

  it('a folder that does not exist, or is a file: says so and where to get the libraries', () => {
    assert.throws(
      () => linkCudaProviders(join(dir, 'nope'), linux(binding)),
      isCudaError(
        /CUDA provider folder .*nope does not exist or is not a folder/,
        /onnxruntime-linux-x64-gpu-1\.30\.0\.tgz/,
      ),
    );
    writeFileSync(join(dir, 'file'), '');
    assert.throws(() => linkCudaProviders(join(dir, 'file'), linux(binding)), isCudaError(/is not a folder/, /lib\//));
  });

  it('a folder without the provider libraries: names what is missing and what is there', () => {
    const lib = join(dir, 'lib');
    mkdirSync(lib);
    writeFileSync(join(lib, 'libonnxruntime.so.1.30.0'), '');
    assert.throws(
      () => linkCudaProviders(lib, linux(binding)),
      isCudaError(
        new RegExp(`lacks ${SHARED} and ${CUDA} \\(it has libonnxruntime\\.so\\.1\\.30\\.0\\)`),
        /huaju4k\.cudaProviderPath/,
      ),
    );
    writeFileSync(join(lib, SHARED), '');
    assert.throws(() => linkCudaProviders(lib, linux(binding)), isCudaError(new RegExp(`lacks ${CUDA} \\(`), /tgz/));
  });

  it('anywhere but linux/x64: refused, on Windows pointing at DirectML', () => {
    assert.throws(
      () => linkCudaProviders(dir, { bindingDir: binding, platform: 'win32', arch: 'x64' }),
      isCudaError(/on win32\/x64, but onnxruntime-node 1\.30's CUDA providers run on linux\/x64 only/, /DirectML/),
    );
    assert.throws(
      () => linkCudaProviders(dir, { bindingDir: binding, platform: 'linux', arch: 'arm64' }),
      isCudaError(/linux\/x64 only/, /--ep auto/),
    );
  });

  it('links the libraries next to the binding once; a stale link is replaced, a real file left alone', () => {
    const lib = join(dir, 'lib');
    mkdirSync(lib);
    for (const f of [SHARED, CUDA]) writeFileSync(join(lib, f), f);
    assert.deepEqual(linkCudaProviders(lib, linux(binding)), [SHARED, CUDA]);
    assert.equal(readlinkSync(join(binding, CUDA)), join(lib, CUDA));
    assert.deepEqual(linkCudaProviders(lib, linux(binding)), [], 'already linked');

    const other = join(dir, 'other');
    mkdirSync(other);
    for (const f of [SHARED, CUDA]) copyFileSync(join(lib, f), join(other, f));
    assert.deepEqual(linkCudaProviders(other, linux(binding)), [SHARED, CUDA], 'relinked to the new folder');
    assert.equal(readlinkSync(join(binding, SHARED)), join(other, SHARED));

    rmSync(join(binding, CUDA));
    writeFileSync(join(binding, CUDA), 'installed by onnxruntime-node/script/install.js');
    assert.deepEqual(linkCudaProviders(lib, linux(binding)), [SHARED]);
    assert.ok(!lstatSync(join(binding, CUDA)).isSymbolicLink());
    symlinkSync(join(dir, 'gone'), join(binding, 'libonnxruntime_providers_tensorrt.so'));
    writeFileSync(join(lib, 'libonnxruntime_providers_tensorrt.so'), '');
    assert.deepEqual(linkCudaProviders(lib, linux(binding)), ['libonnxruntime_providers_tensorrt.so']);
  });

  it('cannot link (the binding folder is not a folder): says why and how to do it by hand', () => {
    const lib = join(dir, 'lib');
    mkdirSync(lib);
    for (const f of [SHARED, CUDA]) writeFileSync(join(lib, f), f);
    writeFileSync(join(dir, 'plain-file'), '');
    assert.throws(
      () => linkCudaProviders(lib, linux(join(dir, 'plain-file'))),
      isCudaError(/cannot link libonnxruntime_providers_shared\.so into onnxruntime's folder .* \(ENOTDIR\)/, /copy/),
    );
    assert.throws(() => linkCudaProviders(lib, linux(undefined)), isCudaError(/no binding folder/, /reinstall/));
  });

  it('openModel stops at a wrong folder before trying any provider (the engine reports it as an error event)', async function () {
    if (process.platform !== 'linux' || process.arch !== 'x64') this.skip(); // elsewhere the platform is the error
    await assert.rejects(
      openModel({
        modelRef: 'realesr-animevideov3-x4',
        ep: 'auto',
        cudaProviders: join(dir, 'nope'),
        vramBudgetBytes: 2 ** 30,
        tile: 64,
        frame: { width: 64, height: 36 },
        pad: 12,
      }),
      isCudaError(/does not exist/, /cudaProviderPath/),
    );
  });
});
