/// <reference types="@webgpu/types" />
/**
 * Finding a WebGPU device: `navigator.gpu` in browsers and Deno, the
 * optional `webgpu` package (Dawn's Node bindings) under Node, imported only
 * here, when this backend is chosen.
 */

export interface GpuDevice {
  device: GPUDevice;
  adapter: Record<string, unknown>;
  /**
   * The object returned by the `webgpu` package's create() (null in
   * browsers). It must stay reachable while the device lives: when it is
   * garbage-collected Dawn crashes or deadlocks in ProcessEvents.
   */
  keepAlive: unknown;
}

const NO_ADAPTER =
  "no WebGPU adapter: on Linux without a GPU install Mesa's lavapipe (scripts/setup-lavapipe.sh) and set " +
  'VK_ADD_DRIVER_FILES to its ICD JSON; with a GPU, make its Vulkan driver visible (VK_DRIVER_FILES)';

async function findGpu(dawnOptions: string[]): Promise<{ gpu: GPU; keepAlive: unknown }> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return { gpu: nav.gpu, keepAlive: null };
  if (typeof process === 'undefined' || !process.versions?.node) {
    throw new Error('wasmtail: this runtime has no WebGPU (navigator.gpu is missing)');
  }
  let mod: { create(options: string[]): GPU };
  try {
    mod = await import('webgpu');
  } catch (e) {
    throw new Error(
      "wasmtail: the WebGPU backend under Node needs the optional package 'webgpu' (Dawn's Node bindings): " +
        `npm install webgpu (${(e as Error).message})`,
    );
  }
  const gpu = mod.create(dawnOptions);
  return { gpu, keepAlive: gpu };
}

/**
 * The device. dawnOptions (Node only) go to the 'webgpu' package's create(),
 * e.g. ['backend=null']: Dawn's Null backend, which validates every call and
 * runs none (the tests use it to check bindings without a GPU).
 */
export async function requestGpuDevice(dawnOptions: string[] = []): Promise<GpuDevice> {
  const { gpu, keepAlive } = await findGpu(dawnOptions);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error(`wasmtail: ${NO_ADAPTER}`);
  const info: GPUAdapterInfo =
    adapter.info ?? (await (adapter as unknown as { requestAdapterInfo(): Promise<GPUAdapterInfo> }).requestAdapterInfo());
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    },
  });
  return {
    device,
    keepAlive,
    adapter: {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      fallback: (info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
    },
  };
}
