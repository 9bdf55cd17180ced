using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Ext.Checking;

/// <summary>
/// The ext2 fsck: the passes of e2fsck (0 superblock and descriptors, orphan list, 1 inodes and blocks, 1B-1D shared
/// blocks, 2 directory structure, 3 connectivity, 4 reference counts, 5 group summaries and bitmaps) with fsck(8)
/// exit codes. A clean volume is skipped unless forced, as e2fsck does.
/// </summary>
/// <remarks>
/// Every repair goes to an in-memory overlay (<see cref="CheckDisk"/>); only a repairing run writes it, at the end,
/// so -n never writes, and a preen that meets a problem needing a person writes nothing but the error flag.
/// Garbage of any kind ends as a report, never as an exception or a hang: block numbers are range-checked before
/// use, and every walk over on-disk links (indirect trees, parent chains, the orphan list) is bounded.
/// </remarks>
public sealed class Ext2Checker : IFileSystemChecker
{
    public FsckResult Check(IBlockDevice device, RepairMode mode, bool force, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(log);
        var s = new CheckSession(device, mode, log);
        if (mode != RepairMode.CheckOnly && device.IsReadOnly)
        {
            log.WriteLine($"{device.Name}: device is read-only; use -n to check it.");
            return new FsckResult(FsckExitCode.OperationalError, ["device is read-only"]);
        }
        try
        {
            return Run(s, force);
        }
        catch (PreenHaltException e)
        {
            log.WriteLine(e.Message);
            log.WriteLine($"{device.Name}: UNEXPECTED INCONSISTENCY; RUN fsck MANUALLY (without -p).");
            s.Disk?.Discard();
            MarkErrors(s);
            return new FsckResult(FsckExitCode.Uncorrected, [.. s.Problems, e.Message + " (needs a manual fsck)"]);
        }
        catch (CheckAbortedException e)
        {
            log.WriteLine($"{device.Name}: {e.Message}");
            return new FsckResult(FsckExitCode.OperationalError | (s.Problems.Count > 0 ? FsckExitCode.Uncorrected : 0), [.. s.Problems, e.Message]);
        }
        catch (IOException e)
        {
            log.WriteLine($"{device.Name}: I/O error: {e.Message}");
            return new FsckResult(FsckExitCode.OperationalError, [.. s.Problems, "I/O error: " + e.Message]);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IndexOutOfRangeException or OverflowException)
        {
            // A checker bug met by hostile input must still end as a report, never as a crash of the caller.
            log.WriteLine($"{device.Name}: internal error while checking: {e}");
            return new FsckResult(FsckExitCode.OperationalError, [.. s.Problems, "internal error: " + e.Message]);
        }
    }

    private static FsckResult Run(CheckSession s, bool force)
    {
        string name = s.Device.Name;
        SuperBlockPass.Run(s);
        var sb = s.Sb;
        string? reason = CheckReason(s, sb);
        if (!force && reason == null)
        {
            s.Say($"{name}: clean, {sb.InodesCount - sb.FreeInodesCount}/{sb.InodesCount} files, {sb.BlocksCount - sb.FreeBlocksCount}/{sb.BlocksCount} blocks");
            return new FsckResult(FsckExitCode.Clean, []);
        }
        if (reason != null) s.Say($"{name} {reason}, check forced.");

        OrphanPass.Run(s);
        s.InitialiseMaps();
        InodePass.Run(s);
        DuplicateBlockPass.Run(s);
        DirectoryPass.Run(s);
        ConnectivityPass.Run(s);
        ReferenceCountPass.Run(s);
        SummaryPass.Run(s);

        if (s.Mode != RepairMode.CheckOnly)
        {
            sb.State = s.UnfixedCount == 0 ? SuperBlock.StateValid : (ushort)(SuperBlock.StateValid | SuperBlock.StateErrors);
            sb.MountCount = 0;
            sb.LastCheck = s.Now;
            s.StoreSuperBlockAndDescriptors();
            s.Disk.Flush();
        }
        long usedInodes = sb.InodesCount - sb.FreeInodesCount, usedBlocks = sb.BlocksCount - sb.FreeBlocksCount;
        if (s.FixedCount > 0 && s.Mode != RepairMode.CheckOnly) s.Say($"\n***** FILE SYSTEM WAS MODIFIED *****");
        s.Say($"{name}: {usedInodes}/{sb.InodesCount} files, {usedBlocks}/{sb.BlocksCount} blocks");
        var code = FsckExitCode.Clean;
        if (s.FixedCount > 0) code |= FsckExitCode.Corrected;
        if (s.UnfixedCount > 0) code |= FsckExitCode.Uncorrected;
        return new FsckResult(code, s.Problems);
    }

    /// <summary>Why the volume needs a full check, or null when a clean skip is allowed (e2fsck's check_if_skip).</summary>
    private static string? CheckReason(CheckSession s, SuperBlock sb)
    {
        if (s.Problems.Count > 0) return "has a damaged superblock";
        if ((sb.State & SuperBlock.StateErrors) != 0) return "contains a file system with errors";
        if ((sb.State & SuperBlock.StateValid) == 0) return "was not cleanly unmounted";
        if (sb.LastOrphan != 0) return "has orphaned inodes";
        if (sb.MaxMountCount > 0 && sb.MountCount >= sb.MaxMountCount) return $"has been mounted {sb.MountCount} times without being checked";
        if (sb.CheckInterval != 0 && sb.LastCheck > s.Now) return "has filesystem last checked time in the future";
        if (sb.CheckInterval != 0 && s.Now - sb.LastCheck >= sb.CheckInterval) return $"has gone {(s.Now - sb.LastCheck) / 86400} days without being checked";
        return null;
    }

    /// <summary>After a preen halt: only the primary superblock's error flag is written, and only if it is readable.</summary>
    private static void MarkErrors(CheckSession s)
    {
        try
        {
            var device = s.Device;
            if (device.IsReadOnly || s.Mode == RepairMode.CheckOnly || device.Length < 2048) return;
            var buf = new byte[SuperBlock.Size];
            device.Read(SuperBlock.PrimaryOffset, buf);
            var sb = SuperBlock.Read(buf);
            if (sb.Validate(device.Length) != null) return;
            sb.State |= SuperBlock.StateErrors;
            sb.WriteTo(buf);
            device.Write(SuperBlock.PrimaryOffset, buf);
            device.Flush();
        }
        catch (IOException)
        {
            // The halt is already reported; a failing device cannot take the flag either.
        }
    }
}
