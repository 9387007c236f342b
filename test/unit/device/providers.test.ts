import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { openModel } from '../../../src/engine/device/open-model';
import {
  autoOrder,
  bindingDir,
  CUDA_INSTALL_HINT,
  explainProviderError,
  missingProviderLibs,
  type ProviderName,
  parseEpOption,
  planProviders,
  providerLabel,
} from '../../../src/engine/device/providers';
import { openOnBestProvider } from '../../../src/engine/device/select-provider';
import { EngineError } from '../../../src/engine/errors';
import { ModelError } from '../../../src/engine/model/loader';

const MODEL = 'realesr-animevideov3-x4';
const FRAME = { width: 64, height: 36 };

// What onnxruntime-node 1.30 said on this machine (no GPU, lavapipe only, CUDA providers not installed).
const WEBGPU_NO_ADAPTER =
  '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n';
const CUDA_NOT_INSTALLED = 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library';

const LINUX_X64 = [
  { name: 'cpu', bundled: true },
  { name: 'webgpu', bundled: true },
  { name: 'cuda', bundled: false },
  { name: 'tensorrt', bundled: false },
];

// What listSupportedBackends() says in onnxruntime-node 1.30's Windows and macOS bindings (their strings).
const WIN32 = [
  { name: 'cpu', bundled: true },
  { name: 'dml', bundled: true },
  { name: 'webgpu', bundled: true },
];
const DARWIN_ARM64 = [
  { name: 'cpu', bundled: true },
  { name: 'webgpu', bundled: true },
  { name: 'coreml', bundled: true },
];

describe('gpu/providers: --ep parsing and planning', () => {
  it('parses --ep (default auto, case-insensitive) and rejects unknown names', () => {
    assert.equal(parseEpOption(undefined), 'auto');
    assert.equal(parseEpOption('CUDA'), 'cuda');
    assert.equal(parseEpOption('DML'), 'dml');
    assert.equal(parseEpOption('coreml'), 'coreml');
    assert.throws(
      () => parseEpOption('metal'),
      /--ep must be one of auto, cuda, tensorrt, dml, coreml, webgpu, cpu, got "metal"/,
    );
  });

  const cases: {
    name: string;
    choice: Parameters<typeof planProviders>[0];
    backends: typeof LINUX_X64;
    missing: ProviderName[];
    platform?: NodeJS.Platform;
    arch?: string;
    candidates: ProviderName[];
    skipped: [ProviderName, RegExp][];
  }[] = [
    {
      name: 'linux/x64, CUDA providers installed: cuda, webgpu, cpu',
      choice: 'auto',
      backends: LINUX_X64,
      missing: [],
      candidates: ['cuda', 'webgpu', 'cpu'],
      skipped: [],
    },
    {
      name: 'linux/x64 without the CUDA libraries: CUDA skipped with the install command',
      choice: 'auto',
      backends: LINUX_X64,
      missing: ['cuda', 'tensorrt'],
      candidates: ['webgpu', 'cpu'],
      skipped: [['cuda', /CUDA providers not installed \(libonnxruntime_providers_shared\.so/]],
    },
    {
      name: 'macOS arm64: CoreML, then WebGPU, then the CPU (CUDA is not a macOS provider, so not even skipped)',
      choice: 'auto',
      backends: DARWIN_ARM64,
      missing: [],
      platform: 'darwin',
      arch: 'arm64',
      candidates: ['coreml', 'webgpu', 'cpu'],
      skipped: [],
    },
    {
      name: 'Windows x64: DirectML, then WebGPU, then the CPU',
      choice: 'auto',
      backends: WIN32,
      missing: [],
      platform: 'win32',
      candidates: ['dml', 'webgpu', 'cpu'],
      skipped: [],
    },
    {
      name: 'Windows arm64 with a build lacking DirectML: skipped with where it exists',
      choice: 'auto',
      backends: [{ name: 'cpu', bundled: true }],
      missing: [],
      platform: 'win32',
      arch: 'arm64',
      candidates: ['cpu'],
      skipped: [
        ['dml', /no DirectML provider on win32\/arm64/],
        ['webgpu', /no WebGPU provider on win32\/arm64/],
      ],
    },
    {
      name: 'macOS x64 (onnxruntime-node 1.30 has no binding there): CoreML and WebGPU skipped',
      choice: 'auto',
      backends: [{ name: 'cpu', bundled: true }],
      missing: [],
      platform: 'darwin',
      arch: 'x64',
      candidates: ['cpu'],
      skipped: [
        ['coreml', /no CoreML provider on darwin\/x64/],
        ['webgpu', /no WebGPU provider/],
      ],
    },
    {
      name: 'explicit dml on Linux: not offered, with where DirectML exists',
      choice: 'dml',
      backends: LINUX_X64,
      missing: [],
      candidates: [],
      skipped: [['dml', /no DirectML provider on linux\/x64/]],
    },
    {
      name: 'explicit coreml on Windows: not offered',
      choice: 'coreml',
      backends: WIN32,
      missing: [],
      platform: 'win32',
      candidates: [],
      skipped: [['coreml', /no CoreML provider on win32\/x64/]],
    },
    {
      name: 'linux/arm64 (cpu only)',
      choice: 'auto',
      backends: [{ name: 'cpu', bundled: true }],
      missing: [],
      arch: 'arm64',
      candidates: ['cpu'],
      skipped: [
        ['cuda', /no CUDA provider on linux\/arm64/],
        ['webgpu', /no WebGPU provider/],
      ],
    },
    {
      name: 'explicit cuda is tried even when its libraries look missing (its real error is the message)',
      choice: 'cuda',
      backends: LINUX_X64,
      missing: ['cuda'],
      candidates: ['cuda'],
      skipped: [],
    },
    {
      name: 'explicit tensorrt where the build has none',
      choice: 'tensorrt',
      backends: [{ name: 'cpu', bundled: true }],
      missing: [],
      platform: 'darwin',
      arch: 'arm64',
      candidates: [],
      skipped: [['tensorrt', /no TensorRT provider on darwin\/arm64/]],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const plan = planProviders(c.choice, {
        backends: c.backends,
        missingLibs: (p) => (c.missing.includes(p) ? [`libonnxruntime_providers_shared.so`] : []),
        platform: c.platform ?? 'linux',
        arch: c.arch ?? 'x64',
      });
      assert.deepEqual(plan.candidates, c.candidates);
      assert.deepEqual(
        plan.skipped.map((s) => s.provider),
        c.skipped.map(([p]) => p),
      );
      plan.skipped.forEach((s, i) => {
        assert.match(s.reason, c.skipped[i][1]);
        assert.ok(s.hint.length > 10);
      });
    });
  }

  it('auto never picks TensorRT (an engine build per tile shape); each platform its GPU provider, WebGPU, cpu', () => {
    assert.deepEqual([...autoOrder('linux')], ['cuda', 'webgpu', 'cpu']);
    assert.deepEqual([...autoOrder('win32')], ['dml', 'webgpu', 'cpu']);
    assert.deepEqual([...autoOrder('darwin')], ['coreml', 'webgpu', 'cpu']);
  });

  it('explains real provider errors with a cause and a fix', () => {
    const table: [ProviderName, string, RegExp, RegExp][] = [
      [
        'cuda',
        CUDA_NOT_INSTALLED,
        /CUDA providers not installed/,
        /huaju4k\.cudaProviderPath .*ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules\/onnxruntime-node\/script\/install\.js/,
      ],
      ['webgpu', WEBGPU_NO_ADAPTER, /WebGPU found no GPU adapter \(No supported adapters\)/, /Vulkan/],
      [
        'cuda',
        'Failed to load library libonnxruntime_providers_cuda.so with error: libcudnn.so.9: cannot open shared object file: No such file or directory',
        /CUDA needs libcudnn\.so\.9/,
        /cuDNN 9/,
      ],
      [
        'cuda',
        'CUDA failure 100: no CUDA-capable device is detected ; GPU=0 ; hostname=box ; file=/onnxruntime_src/onnxruntime/core/providers/cuda/cuda_execution_provider.cc',
        /no usable NVIDIA GPU or driver/,
        /nvidia-smi/,
      ],
      ['tensorrt', 'something odd\nmore', /TensorRT failed to start: something odd/, /--ep auto/],
    ];
    for (const [p, msg, reason, hint] of table) {
      const e = explainProviderError(p, msg);
      assert.match(e.reason, reason, msg);
      assert.match(e.hint, hint, msg);
    }
  });
});

describe('gpu/providers: the installed onnxruntime-node', () => {
  it('listSupportedBackends() offers cpu, and auto plans from it with the libraries that are really there', () => {
    const backends = ort.listSupportedBackends();
    assert.ok(backends.some((b) => b.name === 'cpu' && b.bundled));
    const plan = planProviders('auto', { backends });
    assert.equal(plan.candidates[plan.candidates.length - 1], 'cpu');
    const cuda = backends.find((b) => b.name === 'cuda');
    if (cuda && !cuda.bundled && missingProviderLibs('cuda').length > 0) {
      const s = plan.skipped.find((x) => x.provider === 'cuda');
      assert.ok(s, 'CUDA skipped');
      assert.equal(s.hint, CUDA_INSTALL_HINT);
      assert.ok(bindingDir(), 'the binding folder is found');
    }
  });

  it('auto opens the real model on the first provider that works and explains each one passed over', async () => {
    const opened = await openModel({
      modelRef: MODEL,
      ep: 'auto',
      vramBudgetBytes: 2 ** 30,
      tile: 64,
      frame: FRAME,
      pad: 12,
      intraOpNumThreads: 1,
    });
    try {
      const plan = planProviders('auto', { backends: ort.listSupportedBackends() });
      const passed = [
        ...plan.skipped.map((s) => s.provider),
        ...plan.candidates.slice(0, plan.candidates.indexOf(opened.provider)),
      ];
      assert.deepEqual(
        opened.warnings.map((w) => w.code),
        passed.map(() => 'ep-fallback'),
      );
      passed.forEach((p, i) => {
        const label = providerLabel(p);
        assert.match(opened.warnings[i].message, new RegExp(`^${label} not used: .+ To use ${label}: `));
      });
      assert.equal(opened.model.executionProvider, opened.provider);
      assert.equal(opened.tile, 64);
    } finally {
      await opened.model.session.release();
    }
  });

  it('an explicit provider that cannot start is an ep-unavailable EngineError, not a silent fallback', async function () {
    if (missingProviderLibs('cuda').length === 0) this.skip(); // CUDA providers installed here: nothing to fail
    await assert.rejects(
      openModel({ modelRef: MODEL, ep: 'cuda', vramBudgetBytes: 2 ** 30, tile: 64, frame: FRAME, pad: 12 }),
      (e) => {
        assert.ok(e instanceof EngineError);
        assert.equal(e.reason, 'ep-unavailable');
        assert.match(e.message, /--ep cuda cannot be used: CUDA: CUDA providers not installed/);
        assert.match(
          e.hint ?? '',
          /ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules\/onnxruntime-node\/script\/install\.js`.*; or use --ep auto to fall back/,
        );
        return true;
      },
    );
  });

  it('a model problem is reported as such at once, not blamed on the providers', async () => {
    await assert.rejects(
      openModel({ modelRef: 'no-such-model', ep: 'auto', vramBudgetBytes: 2 ** 30, tile: 64, frame: FRAME, pad: 12 }),
      (e) => e instanceof ModelError && e.reason === 'model-not-found',
    );
  });
});

describe('gpu/select-provider: fallback order', () => {
  it('tries candidates in order, rethrows model errors without trying more, and fails with every reason', async () => {
    const tried: string[] = [];
    const plan = { candidates: ['cuda', 'webgpu', 'cpu'] as ProviderName[], skipped: [] };
    const fail = (p: ProviderName) => new Error(p === 'cuda' ? CUDA_NOT_INSTALLED : WEBGPU_NO_ADAPTER);
    const sel = await openOnBestProvider(
      'auto',
      plan,
      async (p) => {
        tried.push(p);
        if (p !== 'cpu') throw fail(p);
        return p;
      },
      () => true,
    );
    assert.deepEqual(tried, ['cuda', 'webgpu', 'cpu']);
    assert.equal(sel.value, 'cpu');
    assert.match(
      sel.warnings[0].message,
      /^CUDA not used: CUDA providers not installed .*\. Using CPU instead\. To use CUDA: set huaju4k\.cudaProviderPath/,
    );
    assert.match(sel.warnings[1].message, /^WebGPU not used: WebGPU found no GPU adapter/);

    const modelErr = new ModelError('model-corrupt', 'bad', 'fix');
    await assert.rejects(
      openOnBestProvider(
        'auto',
        plan,
        async () => {
          throw modelErr;
        },
        (e) => !(e instanceof ModelError),
      ),
      (e) => e === modelErr,
    );

    await assert.rejects(
      openOnBestProvider(
        'auto',
        { candidates: ['webgpu'], skipped: [] },
        async () => {
          throw fail('webgpu');
        },
        () => true,
      ),
      (e) =>
        e instanceof EngineError &&
        e.reason === 'ep-unavailable' &&
        /no execution provider could run the model/.test(e.message),
    );
  });
});

describe('gpu/select-provider: auto on each platform (platform injected)', () => {
  // The errors a provider gives when its GPU is not usable; what matters is the order and the words around them.
  const failing = new Set<ProviderName>(['dml', 'coreml', 'cuda', 'webgpu']);
  const cases: [NodeJS.Platform, typeof LINUX_X64, ProviderName[]][] = [
    ['linux', LINUX_X64, ['cuda', 'webgpu', 'cpu']],
    ['win32', WIN32, ['dml', 'webgpu', 'cpu']],
    ['darwin', DARWIN_ARM64, ['coreml', 'webgpu', 'cpu']],
  ];
  for (const [platform, backends, order] of cases) {
    it(`${platform}: tries ${order.join(' → ')}, says once that the CPU runs and how to get ${providerLabel(order[0])}`, async () => {
      const plan = planProviders('auto', { backends, missingLibs: () => [], platform, arch: 'x64' });
      assert.deepEqual(plan.candidates, order);
      const tried: ProviderName[] = [];
      const sel = await openOnBestProvider(
        'auto',
        plan,
        async (p) => {
          tried.push(p);
          if (failing.has(p)) throw new Error(`${p}: device lost`);
          return p;
        },
        () => true,
      );
      assert.deepEqual(tried, order);
      assert.equal(sel.provider, 'cpu');
      assert.equal(sel.warnings.length, 2);
      assert.match(sel.warnings[0].message, new RegExp(`^${providerLabel(order[0])} not used: .*device lost`));
      assert.equal(sel.summary?.code, 'ep-summary');
      assert.match(
        sel.summary?.message ?? '',
        new RegExp(
          `^running on the CPU \\(slow\\): no GPU provider works here \\(${providerLabel(order[0])}, WebGPU; why: run with --json.*To use ${providerLabel(order[0])}: `,
        ),
      );
    });
  }

  it('a GPU provider that works is used; the summary names what was passed over, and nothing when none was', async () => {
    const plan = planProviders('auto', { backends: WIN32, platform: 'win32', arch: 'x64' });
    const sel = await openOnBestProvider(
      'auto',
      plan,
      async (p) => {
        if (p === 'dml') throw new Error('DXGI_ERROR_UNSUPPORTED');
        return p;
      },
      () => true,
    );
    assert.equal(sel.provider, 'webgpu');
    assert.match(sel.summary?.message ?? '', /^running on WebGPU; passed over DirectML \(why: /);
    const first = await openOnBestProvider(
      'auto',
      plan,
      async (p) => p,
      () => true,
    );
    assert.equal(first.provider, 'dml');
    assert.equal(first.summary, undefined);
    assert.deepEqual(first.warnings, []);
  });
});

describe('gpu/providers: a provider this onnxruntime-node lacks (the real binding)', () => {
  it('--ep dml / --ep coreml on Linux: an ep-unavailable error saying where the provider exists, no crash', async function () {
    if (process.platform !== 'linux') this.skip();
    for (const [ep, where] of [
      ['dml', /DirectML is Windows-only/],
      ['coreml', /CoreML is macOS-only/],
    ] as const) {
      await assert.rejects(
        openModel({ modelRef: MODEL, ep, vramBudgetBytes: 2 ** 30, tile: 64, frame: FRAME, pad: 12 }),
        (e) => {
          assert.ok(e instanceof EngineError, String(e));
          assert.equal(e.reason, 'ep-unavailable');
          assert.match(e.message, new RegExp(`--ep ${ep} cannot be used: .*no ${providerLabel(ep)} provider on linux`));
          assert.match(e.hint ?? '', where);
          return true;
        },
      );
    }
  });
});
