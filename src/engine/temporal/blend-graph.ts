import { onnx } from 'onnx-proto';
import type * as Ort from 'onnxruntime-node';
import type { FrameStage, PipelineFrame } from '../frame-stage';
import { castNode } from '../model/fp16';
import { ort } from '../model/ort';
import { type BlendPlan, completePlan, type PlannedBlend, type PlanSize } from './blend-plan';
import { type TemporalStage, withOutput } from './temporal-stage';

const { DataType } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;

/** Gather with int32 indices, Range, Floor, Cast: all in opset 13 of the default domain. */
const OPSET = 13;

/** The execution providers that run the blend as a graph: the GPUs, where the typed-array blend is the bottleneck. */
const GPU_PROVIDERS = new Set(['cuda', 'tensorrt', 'dml', 'coreml', 'webgpu']);

export type BlendPath = 'cpu' | 'graph';

/**
 * Where the per-output-pixel blend runs for a model on `provider`: on a GPU the graph, on the model's provider; on
 * the CPU the typed arrays, which measured faster than the graph on the CPU provider (docs/dev/temporal.md).
 */
export function blendPathFor(provider: string | undefined): BlendPath {
  return provider && GPU_PROVIDERS.has(provider) ? 'graph' : 'cpu';
}

/**
 * The providers the blend graph is opened with. TensorRT would build an engine for the little graph too; CUDA runs
 * it on the same GPU without that.
 */
export function blendGraphProviders(provider: string | undefined): string[] {
  if (provider === 'tensorrt') return ['cuda'];
  return provider && GPU_PROVIDERS.has(provider) ? [provider] : ['cpu'];
}

/** What a blend graph is built for: the plan's size, how many past frames, and whether they are read shifted. */
export interface BlendGraphShape extends PlanSize {
  pasts: number;
  shifted: boolean;
}

function node(
  opType: string,
  input: string[],
  output: string,
  attribute: onnx.IAttributeProto[] = [],
): onnx.INodeProto {
  return { opType, name: output, input, output: [output], attribute };
}

function value(name: string, elemType: number, dims: number[]): onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
}

function tensor(name: string, dataType: number, dims: number[], values: number[]): onnx.ITensorProto {
  if (dataType === DataType.FLOAT) return { name, dataType, dims, floatData: values };
  if (dataType === DataType.INT64) return { name, dataType, dims, int64Data: values };
  return { name, dataType, dims, int32Data: values };
}

/**
 * Nodes that read past frame k at its blocks' shifts: per output pixel the index of its own pixel (a Range over the
 * frame, shaped [h,s,w,s]) plus its block's shift (broadcast from [h,1,w,1]), a Gather of whole pixels from the past
 * frame seen as [pixels,3], and back to the blend's [h,s,w,s·3].
 */
function shiftedPast(k: number): onnx.INodeProto[] {
  return [
    node('Add', ['pixel_index', `shift${k}`], `index${k}`),
    node('Gather', [`past${k}`, `index${k}`], `gathered${k}`, [{ name: 'axis', type: AttributeType.INT, i: 0 }]),
    node('Reshape', [`gathered${k}`, 'block_rows'], `moved${k}`),
  ];
}

/**
 * The per-output-pixel half of the temporal blend (blend-plan.ts) as an ONNX model, in the same arithmetic as
 * blendOnCpu(): acc = w0·raw, acc = acc + wₖ·pastₖ for k in order (float32), out = ⌊acc + 0.5⌋ as uint8. Frames
 * are rgb24 seen as [h, s, w, s·3] (h·w blocks of s×s pixels), so the per-block weights [h,1,w,1] broadcast over
 * their blocks without being upsampled. Shifted pasts are read whole pixels at a time with Gather.
 */
export function blendGraph(shape: BlendGraphShape): Uint8Array {
  const { width: w, height: h, scale: s, pasts, shifted } = shape;
  const frameDims = [h, s, w, s * 3];
  const weightDims = [h, 1, w, 1];
  const pixels = h * s * w * s;
  const inputs = [value('raw', DataType.UINT8, frameDims), value('w0', DataType.FLOAT, weightDims)];
  const nodes: onnx.INodeProto[] = [
    castNode('raw_float', 'raw', 'raw_float', DataType.FLOAT),
    node('Mul', ['w0', 'raw_float'], 'acc0'),
  ];
  const initializer = [tensor('half', DataType.FLOAT, [], [0.5])];
  if (shifted) {
    initializer.push(
      tensor('zero', DataType.INT32, [], [0]),
      tensor('pixels', DataType.INT32, [], [pixels]),
      tensor('one', DataType.INT32, [], [1]),
      tensor('pixel_grid', DataType.INT64, [4], [h, s, w, s]),
      tensor('block_rows', DataType.INT64, [4], frameDims),
    );
    nodes.push(node('Range', ['zero', 'pixels', 'one'], 'pixel_range'));
    nodes.push(node('Reshape', ['pixel_range', 'pixel_grid'], 'pixel_index'));
  }
  for (let k = 0; k < pasts; k++) {
    inputs.push(
      value(`past${k}`, DataType.UINT8, shifted ? [pixels, 3] : frameDims),
      value(`weight${k}`, DataType.FLOAT, weightDims),
    );
    if (shifted) {
      inputs.push(value(`shift${k}`, DataType.INT32, weightDims));
      nodes.push(...shiftedPast(k));
    }
    nodes.push(
      castNode(`past_float${k}`, shifted ? `moved${k}` : `past${k}`, `past_float${k}`, DataType.FLOAT),
      node('Mul', [`weight${k}`, `past_float${k}`], `term${k}`),
      node('Add', [`acc${k}`, `term${k}`], `acc${k + 1}`),
    );
  }
  nodes.push(
    node('Add', [`acc${pasts}`, 'half'], 'rounded_up'),
    node('Floor', ['rounded_up'], 'floored'),
    castNode('out', 'floored', 'out', DataType.UINT8),
  );
  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'huaju4k temporal blend',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: 'temporal_blend',
      node: nodes,
      input: inputs,
      output: [value('out', DataType.UINT8, frameDims)],
      initializer,
    },
  };
  return onnx.ModelProto.encode(model).finish();
}

const shapeKey = (s: BlendGraphShape) =>
  `${s.width}x${s.height}x${s.scale}:${s.pasts}:${s.shifted ? 'shifted' : 'still'}`;

/**
 * Runs planned blends as ONNX graphs on one set of execution providers: one session per graph shape (frame size,
 * number of pasts, shifted or not), opened on first use and kept; a job sees a handful of shapes (the window filling
 * up after the start and after cuts).
 */
export class BlendGraph {
  private readonly sessions = new Map<string, Promise<Ort.InferenceSession>>();
  /** Blends carried out by a graph so far. */
  runs = 0;

  constructor(
    readonly providers: string[],
    private readonly threads?: number,
  ) {}

  /** The blended frame, a new buffer (raw itself where no block is blended). */
  async run(raw: Uint8Array, planned: PlannedBlend): Promise<Uint8Array> {
    const plan = completePlan(planned);
    const { size } = planned;
    if (plan.blocks === 0) return raw;
    const shape: BlendGraphShape = { ...size, pasts: plan.weights.length, shifted: plan.shifts !== undefined };
    const session = await this.session(shape);
    const { Tensor } = ort();
    const frameDims = [size.height, size.scale, size.width, size.scale * 3];
    const out = Buffer.allocUnsafeSlow(raw.length);
    const result = await session.run(feeds(raw, plan, shape), { out: new Tensor('uint8', out, frameDims) });
    const got = result.out.data as Uint8Array;
    if (got.byteLength !== out.byteLength)
      throw new Error(`blend graph returned ${got.byteLength} bytes, expected ${out.byteLength}`);
    // A provider that ignored the pre-allocated output: take its bytes.
    if (got.buffer !== out.buffer || got.byteOffset !== out.byteOffset) out.set(got);
    this.runs++;
    return out;
  }

  async release(): Promise<void> {
    const open = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of open) await (await s).release();
  }

  private session(shape: BlendGraphShape): Promise<Ort.InferenceSession> {
    const key = shapeKey(shape);
    let s = this.sessions.get(key);
    if (!s) {
      s = ort().InferenceSession.create(blendGraph(shape), {
        executionProviders: this.providers,
        graphOptimizationLevel: 'all',
        ...(this.threads ? { intraOpNumThreads: this.threads } : {}),
      });
      this.sessions.set(key, s);
      s.catch(() => this.sessions.delete(key));
    }
    return s;
  }
}

/** The graph's inputs for a plan; w0 = 1 where the plan keeps the model's bytes (then acc = raw exactly). */
function feeds(raw: Uint8Array, plan: BlendPlan, shape: BlendGraphShape): Record<string, Ort.Tensor> {
  const { Tensor } = ort();
  const { width: w, height: h, scale: s } = shape;
  const frameDims = [h, s, w, s * 3];
  const pastDims = shape.shifted ? [h * s * w * s, 3] : frameDims;
  const weightDims = [h, 1, w, 1];
  const w0 = plan.w0.map((v) => (v === 0 ? 1 : v));
  const out: Record<string, Ort.Tensor> = {
    raw: new Tensor('uint8', raw, frameDims),
    w0: new Tensor('float32', w0, weightDims),
  };
  plan.weights.forEach((weight, k) => {
    out[`past${k}`] = new Tensor('uint8', plan.pasts[k], pastDims);
    out[`weight${k}`] = new Tensor('float32', weight, weightDims);
    const shift = plan.shifts?.[k];
    if (shift) out[`shift${k}`] = new Tensor('int32', shift, weightDims);
  });
  return out;
}

/**
 * The temporal stage with its per-output-pixel blend run as a graph (BlendGraph): the state and the plan are the
 * stage's own (TemporalStage.plan()), so priming for a resume is unchanged. If the graph cannot run on the provider
 * (a session that does not open, a run that fails), the stage goes on with the typed arrays and says why in
 * `fallback`.
 */
export class GraphBlendStage implements FrameStage {
  readonly name = 'temporal';
  fallback: string | undefined;

  constructor(
    readonly stage: TemporalStage,
    readonly graph: BlendGraph,
  ) {}

  async process(frame: PipelineFrame): Promise<PipelineFrame> {
    const planned = this.stage.plan(frame);
    return planned instanceof Uint8Array ? withOutput(frame, planned) : this.carryOut(frame, planned);
  }

  /**
   * As TemporalStage.split(): the state advanced and the blend decided now (its motion plan in the warp worker when
   * the stage has one), the graph run when the returned function is called, after the next frame went to the model.
   */
  split(frame: PipelineFrame): () => PipelineFrame | Promise<PipelineFrame> {
    const planned = this.stage.planAhead(frame);
    if (planned instanceof Uint8Array) return () => withOutput(frame, planned);
    return async () => this.carryOut(frame, await planned);
  }

  private async carryOut(frame: PipelineFrame, planned: PlannedBlend): Promise<PipelineFrame> {
    if (this.fallback === undefined) {
      try {
        this.stage.completeHere(frame.output, planned);
        return withOutput(frame, await this.graph.run(frame.output, planned));
      } catch (err) {
        this.fallback = err instanceof Error ? err.message.split('\n')[0] : String(err);
      }
    }
    return withOutput(frame, this.stage.carryOut(frame.output, planned));
  }
}
