using System.Collections;
using MountFs.Vfs;

namespace MountFs.Fat;

/// <summary>Walks cluster chains with every link checked: out-of-range values, bad-cluster marks and loops
/// become <see cref="FsException"/> EUCLEAN instead of wrong data or an endless walk.</summary>
public static class ClusterChain
{
    /// <param name="maxClusters">Stop after this many clusters (the most the owner can need); longer is not an error.</param>
    public static List<uint> Walk(FileAllocationTable fat, uint first, long maxClusters, string image, string owner)
    {
        var chain = new List<uint>();
        if (first == 0) return chain;
        // Short chains (most files) remember visited clusters in a small set; long ones in a bitmap of the FAT.
        BitArray? seenMap = null;
        HashSet<uint>? seenSet = null;
        uint c = first;
        while (true)
        {
            if (!fat.IsValidCluster(c))
                throw FsException.Corrupt(image, "cluster chain", $"{owner}: cluster {c} is outside the data area (2..{fat.ClusterCount + 1})");
            bool repeated;
            if (seenMap != null) { repeated = seenMap[(int)c]; seenMap[(int)c] = true; }
            else
            {
                seenSet ??= [];
                repeated = !seenSet.Add(c);
                if (seenSet.Count > 4096)
                {
                    seenMap = new BitArray((int)fat.ClusterCount + 2);
                    foreach (uint s in seenSet) seenMap[(int)s] = true;
                    seenSet = null;
                }
            }
            if (repeated)
                throw FsException.Corrupt(image, "cluster chain", $"{owner}: chain loops back to cluster {c}");
            chain.Add(c);
            if (chain.Count >= maxClusters) return chain;
            uint next = fat.Get(c);
            if (fat.IsEndOfChain(next)) return chain;
            if (next == 0 || fat.IsBad(next))
                throw FsException.Corrupt(image, "cluster chain", $"{owner}: cluster {c} links to {(next == 0 ? "a free cluster" : "a bad-cluster mark")}");
            c = next;
        }
    }
}
