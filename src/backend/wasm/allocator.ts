/**
 * A first-fit-free allocator for WASM linear memory, which the garbage
 * collector never frees. Blocks are rounded to 64 bytes (a cache line, and
 * 16-byte alignment for v128 loads) and recycled through exact-size free
 * lists: a training step asks for the same sizes every step, so after the
 * first step every request is served from a free list and memory stays flat.
 */
const ALIGN = 64;
const PAGE = 65536;

export class OutOfMemoryError extends Error {
  constructor(bytes: number, reserved: number, limit: number) {
    super(
      `out of memory: allocating ${(bytes / 2 ** 20).toFixed(1)} MiB with ` +
        `${(reserved / 2 ** 20).toFixed(1)} MiB already reserved would pass the ` +
        `WebAssembly memory limit of ${(limit / 2 ** 20).toFixed(0)} MiB; use a smaller batch`,
    );
    this.name = 'OutOfMemoryError';
  }
}

export class LinearAllocator {
  private top: number;
  private readonly freeLists = new Map<number, number[]>();
  private inUse = 0;
  /** Start -> size of every block handed out and not freed; kept only in the bounds-checking debug mode. */
  private readonly live: Map<number, number> | null;

  constructor(
    readonly memory: WebAssembly.Memory,
    base: number,
    readonly maxBytes: number,
    trackLive = false,
  ) {
    this.top = Math.ceil(base / ALIGN) * ALIGN;
    this.live = trackLive ? new Map() : null;
  }

  /**
   * Why [ptr, ptr + bytes) is not inside one live block, or null when it is
   * (always null unless constructed with trackLive). A linear search when
   * ptr is inside a block rather than at its start (a thread's part of a
   * batch): debugging speed.
   */
  outsideLiveBlock(ptr: number, bytes: number): string | null {
    if (!this.live) return null;
    let start = ptr;
    let size = this.live.get(ptr);
    if (size === undefined) {
      for (const [s, n] of this.live) {
        if (s <= ptr && ptr < s + n) {
          start = s;
          size = n;
          break;
        }
      }
    }
    if (size === undefined) return `byte offset ${ptr} is in no live allocation (freed, or never allocated)`;
    return ptr + bytes > start + size ? `${bytes} bytes at byte offset ${ptr} run past its block of ${size} bytes at ${start}` : null;
  }

  /** Returns a byte offset of at least `bytes` bytes, 64-byte aligned. */
  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    const list = this.freeLists.get(size);
    this.inUse += size;
    if (list && list.length > 0) {
      const reused = list.pop()!;
      this.live?.set(reused, size);
      return reused;
    }
    const ptr = this.top;
    const end = ptr + size;
    if (end > this.memory.buffer.byteLength) {
      if (end > this.maxBytes) {
        this.inUse -= size;
        throw new OutOfMemoryError(size, this.top, this.maxBytes);
      }
      const pages = Math.ceil((end - this.memory.buffer.byteLength) / PAGE);
      try {
        this.memory.grow(pages);
      } catch {
        this.inUse -= size;
        throw new OutOfMemoryError(size, this.top, this.memory.buffer.byteLength);
      }
    }
    this.top = end;
    this.live?.set(ptr, size);
    return ptr;
  }

  free(ptr: number, bytes: number): void {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    if (this.live) {
      if (this.live.get(ptr) !== size)
        throw new Error(`wasmtail: free of ${bytes} bytes at byte offset ${ptr}, which is not a live block of that size (double free?)`);
      this.live.delete(ptr);
    }
    this.inUse -= size;
    let list = this.freeLists.get(size);
    if (!list) {
      list = [];
      this.freeLists.set(size, list);
    }
    list.push(ptr);
  }

  /** Bytes handed out and not yet freed. */
  get bytesInUse(): number {
    return this.inUse;
  }
  /** High-water mark of the heap: what linear memory must hold. */
  get bytesReserved(): number {
    return this.top;
  }
}
