namespace MountFs.Blocks;

/// <summary>A snapshot of a <see cref="CachedBlockDevice"/>'s counters.</summary>
/// <param name="Hits">Cache-block accesses served from memory.</param>
/// <param name="Misses">Cache-block accesses that found the block absent (and read it, unless fully overwritten).</param>
/// <param name="Evictions">Blocks dropped to stay within the size limit (dirty ones were written back first).</param>
/// <param name="DirtyBlocks">Blocks now holding data not yet written to the inner device.</param>
/// <param name="ResidentBlocks">Blocks now held.</param>
/// <param name="CapacityBlocks">The size limit in blocks.</param>
public sealed record CacheStatistics(long Hits, long Misses, long Evictions, int DirtyBlocks, int ResidentBlocks, int CapacityBlocks);
