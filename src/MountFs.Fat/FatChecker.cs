using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Fat;

/// <summary>
/// fsck for FAT, after fsck.fat: walks the tree from the root claiming clusters, and repairs what it finds
/// (cross-links, loops and bad links truncate the later chain; sizes follow chains; lost chains are freed;
/// orphaned long-name slots are deleted; '.'/'..' are pointed right; FAT copies, FSInfo, the backup boot
/// sector and the dirty bit are brought in step). Repairs are made in memory and written only when allowed.
/// </summary>
public sealed class FatChecker : IFileSystemChecker
{
    public FsckResult Check(IBlockDevice device, RepairMode mode, bool force, TextWriter log)
    {
        var problems = new List<string>();
        FatVolume vol;
        try
        {
            vol = new FatVolume(device, readOnly: mode == RepairMode.CheckOnly || device.IsReadOnly, _ => { });
        }
        catch (FsException e)
        {
            log.WriteLine($"{device.Name}: {e.Message}");
            return new FsckResult(FsckExitCode.Uncorrected | FsckExitCode.OperationalError, [e.Message]);
        }
        if (!force && IsMarkedClean(vol))
        {
            // As e2fsck without -f: a volume that was unmounted cleanly is not walked.
            log.WriteLine($"{device.Name}: clean (use -f to check anyway)");
            return new FsckResult(FsckExitCode.Clean, problems);
        }
        try
        {
            var run = new CheckRun(vol, device, problems, log);
            run.Execute();
            if (problems.Count == 0)
            {
                log.WriteLine($"{device.Name}: clean, {vol.Fat.ClusterCount - vol.Fat.FreeCount}/{vol.Fat.ClusterCount} clusters used, {run.Files} files, {run.Directories} directories");
                return new FsckResult(FsckExitCode.Clean, problems);
            }
            if (vol.ReadOnly)
            {
                log.WriteLine($"{device.Name}: {problems.Count} problem(s) left uncorrected (check only)");
                return new FsckResult(FsckExitCode.Uncorrected, problems);
            }
            run.WriteBack();
            log.WriteLine($"{device.Name}: {problems.Count} problem(s) corrected");
            return new FsckResult(FsckExitCode.Corrected, problems);
        }
        catch (FsException e)
        {
            log.WriteLine($"{device.Name}: check failed: {e.Message}");
            problems.Add(e.Message);
            return new FsckResult(FsckExitCode.Uncorrected | FsckExitCode.OperationalError, problems);
        }
    }

    private static bool IsMarkedClean(FatVolume vol)
    {
        var g = vol.Geometry;
        if ((g.Bpb.Reserved1 & 1) != 0) return false;
        uint cleanBit = g.Type switch { FatType.Fat16 => 0x8000u, FatType.Fat32 => 0x08000000u, _ => 0u };
        // FAT12 has no clean-shutdown bit, so only the BPB flag speaks for it.
        return cleanBit == 0 || (vol.Fat.Get(1) & cleanBit) != 0;
    }

    private sealed class CheckRun(FatVolume vol, IBlockDevice device, List<string> problems, TextWriter log)
    {
        private readonly FatGeometry _g = vol.Geometry;
        private readonly FileAllocationTable _fat = vol.Fat;
        private readonly int[] _owner = new int[vol.Fat.ClusterCount + 2];
        private readonly List<DirectoryWork> _changedDirectories = [];
        private byte[] _boot = [];
        private bool _bootChanged;
        private bool _fatChanged;
        private int _nextOwner = 1;
        public int Files { get; private set; }
        public int Directories { get; private set; }

        private sealed class DirectoryWork
        {
            public required string Path { get; init; }
            public required List<uint> Clusters { get; init; }
            public required bool Fixed { get; init; }
            public required uint ParentCluster { get; init; }
            public byte[] Data { get; set; } = [];
            public bool Changed { get; set; }
        }

        private void Problem(string text)
        {
            string line = $"{vol.Name}: {text}";
            problems.Add(text);
            log.WriteLine(line);
        }

        public void Execute()
        {
            _boot = new byte[_g.BytesPerSector];
            vol.ReadBytes(0, _boot);
            CheckFatCopies();
            CheckReservedEntries();
            CheckDirtyFlag();
            var queue = new Queue<DirectoryWork>();
            var root = RootWork();
            if (root != null) queue.Enqueue(root);
            while (queue.Count > 0)
            {
                var d = queue.Dequeue();
                Directories++;
                CheckDirectory(d, queue);
            }
            FreeLostClusters();
            CheckFsInfo();
            CheckBackupBoot();
        }

        private void CheckFatCopies()
        {
            var first = _fat.Raw;
            var other = new byte[first.Length];
            for (int copy = 1; copy < _g.Bpb.NumberOfFats; copy++)
            {
                vol.ReadBytes(_g.FatOffset(copy), other);
                if (!other.AsSpan().SequenceEqual(first))
                {
                    Problem($"FATs differ: copy {copy + 1} does not match copy 1; using copy 1");
                    _fatChanged = true;
                }
            }
        }

        private void CheckReservedEntries()
        {
            uint media = _g.Type switch { FatType.Fat12 => 0xF00u, FatType.Fat16 => 0xFF00u, _ => 0x0FFFFF00u } | _g.Bpb.Media;
            if (_fat.Get(0) != media)
            {
                Problem($"first FAT entry is 0x{_fat.Get(0):X} instead of 0x{media:X}; fixing");
                _fat.SetRaw(0, media);
                _fatChanged = true;
            }
        }

        private void CheckDirtyFlag()
        {
            int flag = _g.Bpb.TailOffset + 1;
            if ((_boot[flag] & 1) != 0)
            {
                Problem("dirty bit is set: the volume was not properly unmounted; clearing");
                _boot[flag] &= 0xFE;
                _bootChanged = true;
            }
            uint cleanBit = _g.Type switch { FatType.Fat16 => 0x8000u, FatType.Fat32 => 0x08000000u, _ => 0u };
            if (cleanBit != 0 && (_fat.Get(1) & cleanBit) == 0)
            {
                Problem("clean-shutdown bit in FAT[1] is clear; setting");
                _fat.SetRaw(1, _fat.Get(1) | cleanBit);
                _fatChanged = true;
            }
        }

        private DirectoryWork? RootWork()
        {
            if (_g.Type != FatType.Fat32)
                return new DirectoryWork { Path = "/", Clusters = [], Fixed = true, ParentCluster = 0 };
            uint rc = _g.Bpb.RootCluster;
            var chain = ClaimChain(rc, "/", isDirectory: true, out _);
            if (chain.Count == 0) { Problem("root directory has no valid clusters"); return null; }
            return new DirectoryWork { Path = "/", Clusters = chain, Fixed = false, ParentCluster = 0 };
        }

        /// <summary>Claims the chain from <paramref name="first"/> for a new owner, cutting it at the first bad
        /// link, loop or cluster another owner already holds. Returns the clusters kept.</summary>
        private List<uint> ClaimChain(uint first, string path, bool isDirectory, out bool cut)
        {
            int id = _nextOwner++;
            var chain = new List<uint>();
            cut = false;
            if (!_fat.IsValidCluster(first) || _owner[first] != 0 || _fat.Get(first) == 0 || _fat.IsBad(_fat.Get(first)))
            {
                string why = !_fat.IsValidCluster(first) ? $"start cluster {first} is out of range"
                    : _owner[first] != 0 ? $"start cluster {first} is shared with another file"
                    : _fat.Get(first) == 0 ? $"start cluster {first} is marked free" : $"start cluster {first} is marked bad";
                Problem($"{path}: {why}");
                cut = true;
                return chain;
            }
            uint c = first;
            long limit = isDirectory ? vol.MaxDirectoryClusters : long.MaxValue;
            while (true)
            {
                _owner[c] = id;
                chain.Add(c);
                uint next = _fat.Get(c);
                if (_fat.IsEndOfChain(next)) break;
                string? why = null;
                if (next == 0 || next == 1 || !_fat.IsValidCluster(next)) why = $"bad link 0x{next:X} after cluster {c}";
                else if (_fat.IsBad(next)) why = $"link to bad cluster after cluster {c}";
                else if (_owner[next] == id) why = $"circular cluster chain at cluster {next}";
                else if (_owner[next] != 0) why = $"shares cluster {next} with another file (cross-link)";
                else if (chain.Count >= limit) why = "directory longer than 65536 entries";
                if (why != null)
                {
                    Problem($"{path}: {why}; truncating the chain");
                    _fat.Set(c, _fat.EndOfChain);
                    _fatChanged = true;
                    cut = true;
                    break;
                }
                c = next;
            }
            return chain;
        }

        private void Load(DirectoryWork d)
        {
            if (d.Fixed)
            {
                d.Data = new byte[_g.RootDirSectors * _g.BytesPerSector];
                vol.ReadBytes(_g.RootDirOffset, d.Data);
                return;
            }
            int cs = _g.BytesPerCluster;
            d.Data = new byte[(long)d.Clusters.Count * cs];
            foreach (var (index, cluster, count) in FatVolume.Runs(d.Clusters, 0, d.Clusters.Count))
                vol.ReadBytes(_g.ClusterOffset(cluster), d.Data.AsSpan(index * cs, count * cs));
        }

        private void Delete(DirectoryWork d, int slot)
        {
            d.Data[slot * 32] = ShortDirectoryEntry.DeletedMarker;
            d.Changed = true;
        }

        private void CheckDirectory(DirectoryWork d, Queue<DirectoryWork> queue)
        {
            Load(d);
            int slots = d.Data.Length / 32;
            bool isRoot = d.Path == "/";
            if (!isRoot) CheckDots(d);
            var shortNames = new HashSet<string>();
            var pending = new List<int>();
            int expected = 0;
            byte checksum = 0;
            int labels = 0;
            for (int i = isRoot ? 0 : 2; i < slots; i++)
            {
                var s = d.Data.AsSpan(i * 32, 32);
                // Like fsck.fat and Linux, a 0x00 slot is one more free slot, not the end of the directory.
                if (DirectoryImage.IsFreeSlot(s[0]))
                {
                    DropOrphans(d, pending, "is followed by a deleted entry");
                    continue;
                }
                if (ShortDirectoryEntry.IsLongNameSlot(s))
                {
                    var l = LongNameEntry.Parse(s);
                    bool ok = l.Type == 0 && l.FirstClusterLow == 0;
                    if (l.IsLast)
                    {
                        DropOrphans(d, pending, "is not finished");
                        if (ok && l.Sequence is >= 1 and <= 20) { pending.Add(i); expected = l.Sequence - 1; checksum = l.Checksum; }
                        else { Problem($"{d.Path}: invalid long-name slot {i}; deleting"); Delete(d, i); }
                    }
                    else if (ok && pending.Count > 0 && l.Sequence == expected && expected > 0 && l.Checksum == checksum)
                    {
                        pending.Add(i);
                        expected--;
                    }
                    else
                    {
                        DropOrphans(d, pending, "is out of sequence");
                        Problem($"{d.Path}: orphaned long-name slot {i}; deleting");
                        Delete(d, i);
                    }
                    continue;
                }
                var e = ShortDirectoryEntry.Parse(s);
                if (pending.Count > 0 && (expected != 0 || LongNameChecksum.Compute(e.Name) != checksum))
                    DropOrphans(d, pending, "does not match its short entry");
                string lfn = "";
                if (pending.Count > 0)
                {
                    var parts = pending.Select(p => LongNameEntry.Parse(d.Data.AsSpan(p * 32, 32)).Text()).Reverse();
                    lfn = string.Concat(parts);
                }
                var lfnSlots = pending.ToList();
                pending.Clear();
                string name = lfn.Length > 0 ? lfn : e.DisplayName();
                string path = d.Path == "/" ? "/" + name : d.Path + "/" + name;
                if ((e.Attributes & FatAttributes.VolumeId) != 0 && !ShortDirectoryEntry.IsLongNameSlot(s))
                {
                    if (!isRoot || labels > 0 || e.IsDirectory)
                    {
                        Problem($"{path}: stray volume label entry; deleting");
                        Delete(d, i);
                    }
                    else { labels++; CheckLabel(e); }
                    continue;
                }
                if (e.Name[0] == (byte)'.')
                {
                    Problem($"{d.Path}: misplaced '.' or '..' entry at slot {i}; deleting");
                    Delete(d, i);
                    continue;
                }
                bool bad = IsBadShortName(e.Name);
                if (bad || shortNames.Contains(Convert.ToHexString(e.Name)))
                {
                    var renamed = UniqueShortName(Sanitize(e.Name), shortNames);
                    Problem($"{path}: {(bad ? "bad" : "duplicate")} short name '{Printable(e.Name)}'; renaming it to '{Printable(renamed)}'");
                    e = e with { Name = renamed };
                    e.WriteTo(s);
                    byte sum = LongNameChecksum.Compute(renamed);
                    foreach (int p in lfnSlots) d.Data[p * 32 + 13] = sum;
                    d.Changed = true;
                }
                shortNames.Add(Convert.ToHexString(e.Name));
                if (e.IsDirectory) { CheckSubdirectory(d, i, e, path, queue); }
                else { Files++; CheckFile(d, i, e, path); }
            }
            DropOrphans(d, pending, "is not followed by a short entry");
            if (isRoot && labels == 0 && !_g.Bpb.VolumeLabel.AsSpan().SequenceEqual("NO NAME    "u8)
                && !_g.Bpb.VolumeLabel.AsSpan().SequenceEqual("           "u8))
            {
                Problem("volume label in the boot sector is not in the root directory; clearing it");
                SetBootLabel("NO NAME    "u8);
            }
            if (d.Changed) _changedDirectories.Add(d);
        }

        private static bool IsBadChar(byte c, int position) =>
            (c < 0x20 && !(position == 0 && c == 0x05)) || c == 0x7F || "*?<>|\"\\/:.".Contains((char)c);

        /// <summary>What fsck.fat calls a bad short name: forbidden characters, a leading space, or a space
        /// inside the base or extension.</summary>
        private static bool IsBadShortName(ReadOnlySpan<byte> n)
        {
            if (n[0] == (byte)' ') return true;
            for (int i = 0; i < 11; i++)
            {
                if (IsBadChar(n[i], i)) return true;
                int partEnd = i < 8 ? 8 : 11;
                if (n[i] == (byte)' ' && i + 1 < partEnd && n[i + 1] != (byte)' ') return true;
            }
            return false;
        }

        private static byte[] Sanitize(ReadOnlySpan<byte> n)
        {
            var r = n.ToArray();
            for (int i = 0; i < 11; i++)
            {
                int partEnd = i < 8 ? 8 : 11;
                if (IsBadChar(r[i], i) || (r[i] == (byte)' ' && (i == 0 || (i + 1 < partEnd && r[i + 1] != (byte)' '))))
                    r[i] = (byte)'_';
            }
            return r;
        }

        private static byte[] UniqueShortName(byte[] name, HashSet<string> taken)
        {
            if (!taken.Contains(Convert.ToHexString(name))) return name;
            string baseName = System.Text.Encoding.Latin1.GetString(name, 0, 8).TrimEnd(' ');
            string ext = System.Text.Encoding.Latin1.GetString(name, 8, 3).TrimEnd(' ');
            for (int n = 1; ; n++)
            {
                var candidate = ShortNameGenerator.WithTail(baseName, n, ext);
                if (!taken.Contains(Convert.ToHexString(candidate))) return candidate;
            }
        }

        private static string Printable(ReadOnlySpan<byte> n)
        {
            var chars = new char[11];
            for (int i = 0; i < 11; i++) chars[i] = n[i] is >= 0x20 and < 0x7F ? (char)n[i] : '?';
            return new string(chars);
        }

        private void CheckLabel(ShortDirectoryEntry e)
        {
            if (!_g.Bpb.VolumeLabel.AsSpan().SequenceEqual(e.Name))
            {
                Problem("volume label in the boot sector differs from the root directory's; using the root directory's");
                SetBootLabel(e.Name);
            }
        }

        private void SetBootLabel(ReadOnlySpan<byte> label)
        {
            label.CopyTo(_boot.AsSpan(_g.Bpb.TailOffset + 7, 11));
            _bootChanged = true;
        }

        private void DropOrphans(DirectoryWork d, List<int> pending, string why)
        {
            if (pending.Count == 0) return;
            Problem($"{d.Path}: long-name slots {pending[0]}..{pending[^1]} {why}; deleting them");
            foreach (int p in pending) Delete(d, p);
            pending.Clear();
        }

        private void CheckDots(DirectoryWork d)
        {
            uint self = d.Clusters[0];
            if (d.Data.Length < 64) return;
            FixDot(d, 0, ".", self);
            FixDot(d, 1, "..", d.ParentCluster);
        }

        private void FixDot(DirectoryWork d, int slot, string name, uint cluster)
        {
            var s = d.Data.AsSpan(slot * 32, 32);
            var want = ShortNameGenerator.Pack(name, "");
            var e = ShortDirectoryEntry.Parse(s);
            if (!e.Name.AsSpan().SequenceEqual(want) || !e.IsDirectory)
            {
                Problem($"{d.Path}: '{name}' entry is missing; recreating it");
                var now = FatDateTime.Clamp(DateTime.UtcNow);
                new ShortDirectoryEntry
                {
                    Name = want, Attributes = FatAttributes.Directory, FirstCluster = cluster,
                    WriteDate = FatDateTime.EncodeDate(now), WriteTime = FatDateTime.EncodeTime(now),
                }.WriteTo(s);
                d.Changed = true;
            }
            else if (e.FirstCluster != cluster || e.FileSize != 0)
            {
                Problem($"{d.Path}: '{name}' points to cluster {e.FirstCluster} instead of {cluster}; fixing");
                (e with { FirstCluster = cluster, FileSize = 0 }).WriteTo(s);
                d.Changed = true;
            }
        }

        private void CheckSubdirectory(DirectoryWork d, int slot, ShortDirectoryEntry e, string path, Queue<DirectoryWork> queue)
        {
            var s = d.Data.AsSpan(slot * 32, 32);
            if (e.FileSize != 0)
            {
                Problem($"{path}: directory has size {e.FileSize}; setting it to 0");
                e = e with { FileSize = 0 };
                e.WriteTo(s);
                d.Changed = true;
            }
            var chain = e.FirstCluster == 0 ? [] : ClaimChain(e.FirstCluster, path, isDirectory: true, out _);
            if (chain.Count == 0)
            {
                if (e.FirstCluster == 0) Problem($"{path}: directory has no clusters");
                Problem($"{path}: unusable directory; deleting its entry");
                DeleteWithLongName(d, slot);
                return;
            }
            uint parentCluster = d.Fixed || d.Path == "/" ? 0 : d.Clusters[0];
            queue.Enqueue(new DirectoryWork { Path = path, Clusters = chain, Fixed = false, ParentCluster = parentCluster });
        }

        private void DeleteWithLongName(DirectoryWork d, int slot)
        {
            Delete(d, slot);
            for (int i = slot - 1; i >= 0 && ShortDirectoryEntry.IsLongNameSlot(d.Data.AsSpan(i * 32, 32))
                                && d.Data[i * 32] != ShortDirectoryEntry.DeletedMarker; i--)
                Delete(d, i);
        }

        private void CheckFile(DirectoryWork d, int slot, ShortDirectoryEntry e, string path)
        {
            var s = d.Data.AsSpan(slot * 32, 32);
            int cs = _g.BytesPerCluster;
            var fixedEntry = e;
            if (e.FirstCluster == 0)
            {
                if (e.FileSize != 0)
                {
                    Problem($"{path}: file has {e.FileSize} bytes but no clusters; truncating to 0");
                    fixedEntry = e with { FileSize = 0 };
                }
            }
            else
            {
                var chain = ClaimChain(e.FirstCluster, path, isDirectory: false, out _);
                if (chain.Count == 0)
                {
                    Problem($"{path}: truncating to 0 bytes");
                    fixedEntry = e with { FirstCluster = 0, FileSize = 0 };
                }
                else
                {
                    long needed = (e.FileSize + (long)cs - 1) / cs;
                    if (chain.Count > needed)
                    {
                        Problem($"{path}: file size is {e.FileSize} bytes, cluster chain length is {(long)chain.Count * cs} bytes; freeing the extra clusters");
                        if (needed == 0) fixedEntry = e with { FirstCluster = 0 };
                        else _fat.Set(chain[(int)needed - 1], _fat.EndOfChain);
                        for (int k = (int)needed; k < chain.Count; k++) { _fat.Set(chain[k], 0); _owner[chain[k]] = 0; }
                        _fatChanged = true;
                    }
                    else if (chain.Count < needed)
                    {
                        long newSize = (long)chain.Count * cs;
                        Problem($"{path}: file size is {e.FileSize} bytes, cluster chain length is {newSize} bytes; truncating the file");
                        fixedEntry = e with { FileSize = (uint)newSize };
                    }
                }
            }
            if (fixedEntry != e)
            {
                fixedEntry.WriteTo(s);
                d.Changed = true;
            }
        }

        private void FreeLostClusters()
        {
            var lost = new List<uint>();
            for (uint c = 2; c < _fat.ClusterCount + 2; c++)
            {
                uint v = _fat.Get(c);
                if (v != 0 && !_fat.IsBad(v) && _owner[c] == 0) lost.Add(c);
            }
            if (lost.Count == 0) return;
            var lostSet = new HashSet<uint>(lost);
            var pointedTo = new HashSet<uint>();
            foreach (uint c in lost) { uint v = _fat.Get(c); if (lostSet.Contains(v)) pointedTo.Add(v); }
            int heads = lost.Count(c => !pointedTo.Contains(c));
            Problem($"{lost.Count} lost cluster(s) in {Math.Max(heads, 1)} chain(s); freeing them");
            foreach (uint c in lost) _fat.Set(c, 0);
            _fatChanged = true;
        }

        private void CheckFsInfo()
        {
            var b = _g.Bpb;
            if (_g.Type != FatType.Fat32) return;
            if (b.FsInfoSector == 0 || b.FsInfoSector >= b.ReservedSectors) return;
            var sector = new byte[_g.BytesPerSector];
            vol.ReadBytes((long)b.FsInfoSector * _g.BytesPerSector, sector);
            var info = FsInfo.Parse(sector);
            if (info == null) { Problem("FSInfo sector has bad signatures; rewriting it"); _fatChanged = true; return; }
            if (info.FreeCount != _fat.FreeCount)
            {
                Problem($"free cluster summary wrong ({info.FreeCount} instead of {_fat.FreeCount}); fixing");
                _fatChanged = true;
            }
            if (info.NextFree != FsInfo.Unknown && !_fat.IsValidCluster(info.NextFree))
            {
                Problem($"FSInfo next-free hint {info.NextFree} is out of range; fixing");
                _fatChanged = true;
            }
        }

        private void CheckBackupBoot()
        {
            var b = _g.Bpb;
            if (_g.Type != FatType.Fat32 || b.BackupBootSector == 0 || b.BackupBootSector >= b.ReservedSectors) return;
            var backup = new byte[_g.BytesPerSector];
            vol.ReadBytes((long)b.BackupBootSector * _g.BytesPerSector, backup);
            // The dirty bit is only kept in the primary, so compare with it as it will be after repair.
            var primary = (byte[])_boot.Clone();
            primary[b.TailOffset + 1] &= 0xFE;
            backup[b.TailOffset + 1] &= 0xFE;
            if (!backup.AsSpan(0, 512).SequenceEqual(primary.AsSpan(0, 512)))
            {
                Problem("backup boot sector differs from the boot sector; rewriting it");
                _bootChanged = true;
            }
        }

        public void WriteBack()
        {
            int bps = _g.BytesPerSector;
            foreach (var d in _changedDirectories)
            {
                if (d.Fixed) { vol.WriteBytes(_g.RootDirOffset, d.Data); continue; }
                int cs = _g.BytesPerCluster;
                foreach (var (index, cluster, count) in FatVolume.Runs(d.Clusters, 0, d.Clusters.Count))
                    vol.WriteBytes(_g.ClusterOffset(cluster), d.Data.AsSpan(index * cs, count * cs));
            }
            if (_fatChanged)
            {
                for (int copy = 0; copy < _g.Bpb.NumberOfFats; copy++) vol.WriteBytes(_g.FatOffset(copy), _fat.Raw);
            }
            var b = _g.Bpb;
            if (_g.Type == FatType.Fat32 && b.FsInfoSector != 0 && b.FsInfoSector < b.ReservedSectors)
            {
                var sector = new byte[bps];
                vol.ReadBytes((long)b.FsInfoSector * bps, sector);
                var old = FsInfo.Parse(sector);
                uint hint = old != null && _fat.IsValidCluster(old.NextFree) ? old.NextFree : FsInfo.Unknown;
                if (old == null || old.FreeCount != _fat.FreeCount || old.NextFree != hint)
                {
                    new FsInfo(_fat.FreeCount, hint).WriteTo(sector);
                    sector[510] = 0x55; sector[511] = 0xAA;
                    vol.WriteBytes((long)b.FsInfoSector * bps, sector);
                }
            }
            if (_bootChanged)
            {
                vol.WriteBytes(0, _boot);
                if (_g.Type == FatType.Fat32 && b.BackupBootSector != 0 && b.BackupBootSector < b.ReservedSectors)
                    vol.WriteBytes((long)b.BackupBootSector * bps, _boot);
            }
            try { device.Flush(); }
            catch (IOException e) { throw new FsException(Errno.EIO, $"{vol.Name}: flush failed", e); }
        }
    }
}
