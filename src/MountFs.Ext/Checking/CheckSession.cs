using System.Collections;
using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Ext.Checking;

/// <summary>
/// Everything one fsck run shares between its passes: the superblock and group descriptors in use, the overlay disk,
/// the maps the passes compute (blocks and inodes in use, directories, counted links), problem accounting, and
/// inode and block allocation for repairs.
/// </summary>
/// <remarks>Repairs are always applied to the overlay so later passes see a consistent picture; whether the overlay
/// reaches the device is decided once, at the end, by the mode (-n never writes).</remarks>
internal sealed class CheckSession
{
    private readonly List<string> _problems = [];
    private uint _blockCursor;
    private uint _inodeCursor;

    public CheckSession(IBlockDevice device, RepairMode mode, TextWriter log)
    {
        Device = device;
        Mode = mode;
        Log = log;
        Now = (uint)Math.Clamp(DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 1, uint.MaxValue);
    }

    public IBlockDevice Device { get; }
    public RepairMode Mode { get; }
    public TextWriter Log { get; }
    public uint Now { get; }

    public SuperBlock Sb { get; set; } = null!;
    public Geometry Geo { get; set; } = null!;
    public GroupDescriptor[] Groups { get; set; } = [];
    public CheckDisk Disk { get; set; } = null!;

    /// <summary>Set when the superblock or descriptors must be written to every backup group too.</summary>
    public bool RewriteBackups { get; set; }

    public IReadOnlyList<string> Problems => _problems;
    public int FixedCount { get; private set; }
    public int UnfixedCount { get; private set; }

    // Maps computed by the passes (index = block number / inode number).
    public BitArray BlockUsed { get; private set; } = new(0);
    public BitArray Metadata { get; private set; } = new(0);
    /// <summary>Claims on blocks claimed more than once (metadata counts as one claim).</summary>
    public Dictionary<uint, int> DuplicateClaims { get; } = [];
    public BitArray InodeUsed { get; private set; } = new(0);
    /// <summary>Directory-entry file type of each in-use inode.</summary>
    public byte[] InodeType { get; private set; } = [];
    public int[] LinksCounted { get; private set; } = [];
    /// <summary>i_links_count of each inode pass 1 looked at, kept current by <see cref="WriteInode"/>, so pass 4
    /// need not read back inodes whose count is right.</summary>
    public ushort[] LinksStored { get; private set; } = [];
    public Dictionary<uint, CheckedDirectory> Directories { get; } = [];
    public uint LostAndFound { get; set; }

    public int BlockSize => Geo.BlockSize;

    /// <summary>Allocates the per-block and per-inode maps once the geometry is final.</summary>
    public void InitialiseMaps()
    {
        if (Geo.BlocksCount > int.MaxValue - 1 || Geo.InodesCount > int.MaxValue - 1)
            throw new CheckAbortedException("file system too large for this checker");
        BlockUsed = new BitArray((int)Geo.BlocksCount);
        Metadata = new BitArray((int)Geo.BlocksCount);
        InodeUsed = new BitArray((int)Geo.InodesCount + 1);
        InodeType = new byte[Geo.InodesCount + 1];
        LinksCounted = new int[Geo.InodesCount + 1];
        LinksStored = new ushort[Geo.InodesCount + 1];
    }

    // ---- problem accounting ----

    /// <summary>
    /// Reports a problem whose repair the caller applies next. Preen may only apply <paramref name="preenSafe"/>
    /// repairs; anything else stops the run (see <see cref="PreenHaltException"/>).
    /// </summary>
    public void Fix(string message, bool preenSafe = false)
    {
        if (Mode == RepairMode.Preen && !preenSafe) throw new PreenHaltException(message);
        if (Mode == RepairMode.CheckOnly)
        {
            UnfixedCount++;
            Record(message + " (not fixed: read-only check)");
        }
        else
        {
            FixedCount++;
            Record(message + " Fixed.");
        }
    }

    /// <summary>Reports a problem this checker cannot repair.</summary>
    public void Unfixable(string message)
    {
        UnfixedCount++;
        Record(message + " NOT FIXED.");
    }

    private void Record(string line)
    {
        _problems.Add(line);
        Log.WriteLine(line);
    }

    public void Say(string line) => Log.WriteLine(line);

    // ---- inode I/O ----

    public bool ValidInode(uint ino) => ino >= 1 && ino <= Geo.InodesCount;

    public (uint Block, int Offset) InodeLocation(uint ino)
    {
        var (group, blockInTable, offset) = Geo.LocateInode(ino);
        return (Groups[group].InodeTable + blockInTable, offset);
    }

    public Inode ReadInode(uint ino)
    {
        if (!ValidInode(ino)) throw new CheckAbortedException($"inode {ino} out of range");
        var (block, offset) = InodeLocation(ino);
        return Inode.Read(Disk.Read(block).AsSpan(offset, Geo.InodeSize));
    }

    public void WriteInode(uint ino, Inode inode)
    {
        var (block, offset) = InodeLocation(ino);
        inode.WriteTo(Disk.Modify(block).AsSpan(offset, Geo.InodeSize));
        if (ino < LinksStored.Length) LinksStored[ino] = inode.LinksCount;
    }

    /// <summary>Deletes an inode as e2fsck does: no links, a deletion time, no flags; its blocks are released by the caller's maps.</summary>
    public void ClearInode(uint ino, Inode inode)
    {
        inode.LinksCount = 0;
        inode.Dtime = Now;
        inode.Flags = 0;
        if (ino < Sb.FirstInode)
            for (int i = 0; i < Inode.BlockPointers; i++) inode.SetBlock(i, 0);
        WriteInode(ino, inode);
        InodeUsed[(int)ino] = false;
        InodeType[ino] = 0;
        Directories.Remove(ino);
    }

    // ---- allocation for repairs ----

    /// <summary>A block no inode and no metadata uses, marked used; 0 when the file system is full.</summary>
    public uint AllocateBlock()
    {
        uint total = Geo.BlocksCount;
        for (uint n = 0; n < total; n++)
        {
            uint b = Geo.FirstDataBlock + (_blockCursor + n) % (total - Geo.FirstDataBlock);
            if (BlockUsed[(int)b] || !Disk.InRange(b)) continue;
            BlockUsed[(int)b] = true;
            _blockCursor = b - Geo.FirstDataBlock + 1;
            return b;
        }
        return 0;
    }

    /// <summary>A free inode past the reserved ones, marked used; 0 when none is left.</summary>
    public uint AllocateInode()
    {
        uint first = Sb.FirstInode, total = Geo.InodesCount;
        for (uint n = 0; n + first <= total; n++)
        {
            uint ino = first + (_inodeCursor + n) % (total - first + 1);
            if (InodeUsed[(int)ino]) continue;
            InodeUsed[(int)ino] = true;
            _inodeCursor = ino - first + 1;
            return ino;
        }
        return 0;
    }

    /// <summary>A fresh inode record of the file system's inode size.</summary>
    public Inode NewInode(ushort mode)
    {
        var inode = new Inode(Geo.InodeSize) { Mode = mode, AtimeSeconds = Now, CtimeSeconds = Now, MtimeSeconds = Now };
        if (Geo.InodeSize > Inode.GoodOldSize) inode.ExtraSize = 32;
        return inode;
    }

    // ---- superblock and descriptors ----

    /// <summary>Writes the superblock and group descriptors into the overlay: primary always, backups when asked.</summary>
    public void StoreSuperBlockAndDescriptors()
    {
        for (int g = 0; g < Geo.GroupCount; g++)
        {
            if (g != 0 && !(RewriteBackups && Geo.HasSuperBlock(g))) continue;
            var copy = Sb.Clone();
            copy.BlockGroupNumber = (ushort)g;
            uint first = Geo.GroupFirstBlock(g);
            if (g == 0)
            {
                uint sbBlock = SuperBlock.PrimaryOffset / (uint)BlockSize;
                int within = SuperBlock.PrimaryOffset % BlockSize;
                copy.WriteTo(Disk.Modify(sbBlock).AsSpan(within, SuperBlock.Size));
            }
            else
            {
                copy.WriteTo(Disk.Modify(first).AsSpan(0, SuperBlock.Size));
            }
            uint gdt = Geo.GdtStart(g);
            for (int i = 0; i < Groups.Length; i++)
            {
                uint block = gdt + (uint)(i / Geo.DescriptorsPerBlock);
                int offset = i % Geo.DescriptorsPerBlock * GroupDescriptor.Size;
                Groups[i].WriteTo(Disk.Modify(block).AsSpan(offset, GroupDescriptor.Size));
            }
        }
    }
}
