// Size bounds for benchmark files, checked while reading so an oversized input is refused when the
// bound is crossed, not after it has been held in memory.

export interface McLimits {
  /** One JSONL item. The longest m_mmlu rows (professional law) are a few kB. */
  lineBytes: number;
  /** One JSONL file; a whole language of m_mmlu is about 30 MB. */
  fileBytes: number;
  /** One JSON array or parquet file, which is parsed whole. */
  wholeFileBytes: number;
  /** Files and folders visited in a folder walk (the full alexandrainst sets are a few hundred). */
  walkEntries: number;
  /** Folder depth of a walk below the folder given. */
  walkDepth: number;
}

export const MC_LIMITS: McLimits = {
  lineBytes: 1 << 20,
  fileBytes: 512 * 2 ** 20,
  wholeFileBytes: 256 * 2 ** 20,
  walkEntries: 100_000,
  walkDepth: 12,
};
