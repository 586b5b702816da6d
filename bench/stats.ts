/** Latencies of one measured window, kept whole so the percentiles are exact. */
export class LatencyRecorder {
  #values = new Float64Array(1 << 16);
  #count = 0;

  record(ms: number): void {
    if (this.#count === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#count++] = ms;
  }

  get count(): number {
    return this.#count;
  }

  /** p50, p90 and p99 in milliseconds (nearest rank); zeros when nothing was recorded. */
  percentiles(): { p50: number; p90: number; p99: number } {
    const sorted = this.#values.slice(0, this.#count).sort();
    return { p50: nearestRank(sorted, 50), p90: nearestRank(sorted, 90), p99: nearestRank(sorted, 99) };
  }
}

function nearestRank(sorted: Float64Array, percent: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((percent / 100) * sorted.length) - 1)]!;
}
