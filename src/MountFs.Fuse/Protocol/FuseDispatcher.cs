using System.Buffers.Binary;
using System.Text;
using MountFs.Fuse.Bridge;
using MountFs.Vfs;
using UnixFileMode = MountFs.Vfs.UnixFileMode;

namespace MountFs.Fuse.Protocol;

/// <summary>
/// Bytes in, bytes out: decodes one request, runs it through the <see cref="FuseBridge"/>, and encodes
/// exactly one reply (none for FORGET, BATCH_FORGET and INTERRUPT). The same dispatcher serves
/// /dev/fuse or a unit test's byte fixtures.
/// </summary>
/// <remarks>
/// Thread-safe: worker threads call <see cref="Process"/> at once, each with its own buffers.
/// Buffer lifetime: the request span and the reply memory belong to the caller and are only used
/// during the call; the layout reads file data straight into the reply buffer.
/// Errors are values: a malformed request gets EINVAL (or is dropped with a log line when it has no
/// usable header), an <see cref="FsException"/> its errno, and anything else EIO plus a log line.
/// </remarks>
public sealed class FuseDispatcher
{
    public const uint OurMinor = 38;
    /// <summary>Oldest kernel minor we speak: every reply struct has its current size from 7.12 on.</summary>
    public const uint OldestMinor = 12;

    private const InitFlags Wanted =
        InitFlags.AsyncRead | InitFlags.AtomicOTrunc | InitFlags.BigWrites | InitFlags.AutoInvalData |
        InitFlags.DoReaddirplus | InitFlags.ReaddirplusAuto | InitFlags.AsyncDio | InitFlags.ParallelDirops |
        InitFlags.MaxPages | InitFlags.CacheSymlinks | InitFlags.AbortError | InitFlags.InitExt |
        InitFlags.HandleKillprivV2;

    /// <summary>fuse_write_in.write_flags FUSE_WRITE_CACHE: page-cache write-back (delayed, not on the writer's behalf).</summary>
    private const uint WriteFromCache = 1 << 0;

    /// <summary>fuse_write_in.write_flags FUSE_WRITE_KILL_SUIDGID: an unprivileged writer; clear set-id bits.</summary>
    private const uint WriteKillSetId = 1 << 2;

    /// <summary>fuse_open_in.open_flags FUSE_OPEN_KILL_SUIDGID: an unprivileged O_TRUNC open; clear set-id bits.</summary>
    private const uint OpenKillSetId = 1 << 0;

    private readonly FuseBridge _bridge;
    private readonly FuseOptions _options;
    private readonly Action<string> _log;
    private readonly FuseTimeout _entryTimeout, _attrTimeout, _negativeTimeout;
    private volatile bool _initialized;

    public FuseDispatcher(IFileSystem fileSystem, FuseOptions options, Action<string>? log = null)
    {
        _bridge = new FuseBridge(fileSystem) { CacheDirectories = options.CacheDirectories, FlushOnClose = options.FlushOnClose };
        _options = options;
        _log = log ?? (_ => { });
        _entryTimeout = FuseTimeout.From(options.EntryTimeout);
        _attrTimeout = FuseTimeout.From(options.AttributeTimeout);
        _negativeTimeout = FuseTimeout.From(options.NegativeTimeout);
        MaxWrite = Math.Clamp(options.MaxWrite, 4096, 1 << 24);
    }

    public FuseBridge Bridge => _bridge;

    /// <summary>Requests seen per opcode (logged at unmount with <see cref="FuseOptions.LogRequestCounts"/>).</summary>
    public RequestCounters Counters { get; } = new();

    public int MaxWrite { get; }

    /// <summary>Large enough for the largest WRITE (header + fuse_write_in + max_write) with room to spare.</summary>
    public int RequestBufferSize => MaxWrite + 4096;

    /// <summary>Large enough for the largest READ reply.</summary>
    public int ReplyBufferSize => MaxWrite + 4096;

    /// <summary>What INIT agreed, or null before it.</summary>
    public InitOut? Negotiated { get; private set; }

    /// <summary>Set when DESTROY arrived (the kernel sends it for fuseblk and some unmounts only).</summary>
    public bool Destroyed { get; private set; }

    /// <summary>Raised once INIT has been answered successfully.</summary>
    public event Action? Initialized;

    /// <summary>
    /// Whether <paramref name="request"/> may wait on the device or free much data, so the worker that read
    /// it should hand the reader role on before processing it (see <see cref="FuseSession"/>). RELEASE of a
    /// handle nothing was written through, and FORGET that frees little, are answered in place: handing
    /// the role on costs a thread wake-up per request (measured here: +25% creates/s, +50% unlinks/s
    /// without those hand-offs).
    /// </summary>
    public bool MayWait(ReadOnlySpan<byte> request)
    {
        const uint SizeValid = 1 << 3; // FATTR_SIZE in fuse_setattr_in.valid, the first field after the header
        if (request.Length < FuseInHeader.Size + 8) return false;
        var opcode = (FuseOpcode)BinaryPrimitives.ReadUInt32LittleEndian(request[4..]);
        var body = request[FuseInHeader.Size..];
        return opcode switch
        {
            FuseOpcode.Read or FuseOpcode.Write or FuseOpcode.Fsync or FuseOpcode.FsyncDir or FuseOpcode.Flush
                or FuseOpcode.Fallocate or FuseOpcode.CopyFileRange or FuseOpcode.BatchForget or FuseOpcode.SyncFs => true,
            FuseOpcode.Release => !_bridge.ReleaseIsCheap(BinaryPrimitives.ReadUInt64LittleEndian(body)),
            FuseOpcode.Forget => !_bridge.ForgetIsCheap(BinaryPrimitives.ReadUInt64LittleEndian(request[16..]),
                BinaryPrimitives.ReadUInt64LittleEndian(body)),
            FuseOpcode.SetAttr => (BinaryPrimitives.ReadUInt32LittleEndian(body) & SizeValid) != 0,
            _ => false,
        };
    }

    /// <summary>Handles one request; returns the reply length written to <paramref name="reply"/>, 0 for none.</summary>
    public int Process(ReadOnlySpan<byte> request, Memory<byte> reply)
    {
        if (request.Length < FuseInHeader.Size)
        {
            _log($"fuse: dropped a {request.Length}-byte request: shorter than its header");
            return 0;
        }
        bool valid = FuseInHeader.TryParse(request, out var header);
        Counters.Count(header.Opcode);
        // NOTIFY_REPLY answers a retrieve we never send; like FORGET and INTERRUPT it takes no reply.
        bool needsReply = header.Opcode is not (FuseOpcode.Forget or FuseOpcode.BatchForget or FuseOpcode.Interrupt or FuseOpcode.NotifyReply);
        int extLength = header.TotalExtLength * 8;
        if (!valid || extLength > header.Length - FuseInHeader.Size)
        {
            _log($"fuse: malformed {header.Opcode} request {header.Unique}: len {header.Length} of {request.Length} bytes");
            return needsReply ? Error(reply.Span, header.Unique, Errno.EINVAL) : 0;
        }
        var body = request[FuseInHeader.Size..((int)header.Length - extLength)];
        try
        {
            int length = Dispatch(header, body, reply);
            return needsReply ? length : 0;
        }
        catch (FsException e)
        {
            if (e.Errno is Errno.EIO or Errno.EUCLEAN) _log($"fuse: {header.Opcode} node {header.NodeId}: {e.Message}");
            return needsReply ? Error(reply.Span, header.Unique, e.Errno) : 0;
        }
        catch (Exception e)
        {
            _log($"fuse: {header.Opcode} node {header.NodeId} failed: {e.GetType().Name}: {e.Message}");
            return needsReply ? Error(reply.Span, header.Unique, Errno.EIO) : 0;
        }
    }

    private int Dispatch(in FuseInHeader h, ReadOnlySpan<byte> body, Memory<byte> replyMemory)
    {
        var reply = replyMemory.Span;
        var r = new FuseReader(body);
        ulong u = h.Unique;
        if (h.Opcode == FuseOpcode.Init) return Init(u, ref r, reply);
        if (!_initialized) return Error(reply, u, Errno.EIO);
        var who = new Credentials(h.Uid, h.Gid, (int)h.Pid);
        switch (h.Opcode)
        {
            case FuseOpcode.Lookup:
            {
                string name = Name(ref r);
                var found = _bridge.Lookup(h.NodeId, name);
                if (found is not null) return Entry(reply, u, found);
                if (_negativeTimeout.Seconds == 0 && _negativeTimeout.Nanoseconds == 0) return Error(reply, u, Errno.ENOENT);
                new EntryOut(0, 0, _negativeTimeout, default, default).WriteTo(Payload(reply));
                return Ok(reply, u, EntryOut.WireSize);
            }
            case FuseOpcode.Forget:
                if (ForgetIn.TryRead(ref r, out var forget)) _bridge.Forget(h.NodeId, forget.Lookups);
                else _log($"fuse: dropped a truncated FORGET for node {h.NodeId}");
                return 0;
            case FuseOpcode.BatchForget:
            {
                if (!r.TryReadUInt32(out uint count) || !r.TryReadUInt32(out _))
                {
                    _log("fuse: dropped a truncated BATCH_FORGET");
                    return 0;
                }
                for (uint i = 0; i < count; i++)
                {
                    if (!ForgetOne.TryRead(ref r, out var one))
                    {
                        _log($"fuse: BATCH_FORGET announced {count} entries but carried {i}");
                        break;
                    }
                    _bridge.Forget(one.NodeId, one.Lookups);
                }
                return 0;
            }
            case FuseOpcode.Interrupt:
                // Requests are short and never block on each other, so they simply finish.
                return 0;
            case FuseOpcode.GetAttr:
                return Attr(reply, u, _bridge.GetAttributes(h.NodeId));
            case FuseOpcode.SetAttr:
            {
                Need(SetAttrIn.TryRead(ref r, out var s));
                var changes = ToChanges(s, out bool any);
                if ((s.Valid & SetAttrValid.KillSuidGid) != 0 && any)
                    changes = _bridge.WithSetIdCleared(h.NodeId, changes);
                ulong? fh = (s.Valid & SetAttrValid.Fh) != 0 ? s.Handle : null;
                return Attr(reply, u, any ? _bridge.SetAttributes(h.NodeId, changes, fh) : _bridge.GetAttributes(h.NodeId));
            }
            case FuseOpcode.ReadLink:
            {
                string target = _bridge.ReadLink(h.NodeId);
                var payload = Payload(reply);
                if (Encoding.UTF8.GetByteCount(target) > payload.Length) throw new FsException(Errno.ENAMETOOLONG);
                return Ok(reply, u, Encoding.UTF8.GetBytes(target, payload));
            }
            case FuseOpcode.Symlink:
            {
                string name = Name(ref r);
                string target = Name(ref r);
                return Entry(reply, u, _bridge.Symlink(h.NodeId, name, target, who));
            }
            case FuseOpcode.MkNod:
            {
                Need(MkNodIn.TryRead(ref r, out var m));
                return Entry(reply, u, _bridge.MakeNode(h.NodeId, Name(ref r), m.Mode, m.Rdev, who));
            }
            case FuseOpcode.MkDir:
            {
                Need(MkDirIn.TryRead(ref r, out var m));
                return Entry(reply, u, _bridge.MakeDirectory(h.NodeId, Name(ref r), m.Mode & UnixFileMode.PermissionMask, who));
            }
            case FuseOpcode.Unlink:
                _bridge.Unlink(h.NodeId, Name(ref r));
                return Ok(reply, u, 0);
            case FuseOpcode.RmDir:
                _bridge.RemoveDirectory(h.NodeId, Name(ref r));
                return Ok(reply, u, 0);
            case FuseOpcode.Rename:
            case FuseOpcode.Rename2:
            {
                Need(RenameIn.TryRead(ref r, h.Opcode == FuseOpcode.Rename2, out var m));
                string from = Name(ref r);
                string to = Name(ref r);
                _bridge.Rename(h.NodeId, from, m.NewDirectory, to, (RenameFlags)m.Flags);
                return Ok(reply, u, 0);
            }
            case FuseOpcode.Link:
            {
                Need(LinkIn.TryRead(ref r, out var m));
                return Entry(reply, u, _bridge.Link(m.OldNodeId, h.NodeId, Name(ref r)));
            }
            case FuseOpcode.Open:
            {
                Need(OpenIn.TryRead(ref r, out var m));
                var (fh, flags) = _bridge.Open(h.NodeId, (OpenFlags)m.Flags, (m.OpenFlags & OpenKillSetId) != 0);
                new OpenOut(fh, flags).WriteTo(Payload(reply));
                return Ok(reply, u, OpenOut.WireSize);
            }
            case FuseOpcode.Create:
            {
                Need(CreateIn.TryRead(ref r, out var m));
                var (attributes, fh, flags) = _bridge.Create(h.NodeId, Name(ref r), m.Mode, (OpenFlags)m.Flags, who);
                var payload = Payload(reply);
                EntryFor(attributes).WriteTo(payload);
                new OpenOut(fh, flags).WriteTo(payload[EntryOut.WireSize..]);
                return Ok(reply, u, EntryOut.WireSize + OpenOut.WireSize);
            }
            case FuseOpcode.Read:
            {
                Need(ReadWriteIn.TryRead(ref r, out var m));
                var payload = Payload(reply);
                int size = (int)Math.Min(m.Size, (uint)payload.Length);
                return Ok(reply, u, _bridge.Read(h.NodeId, m.Handle, Offset(m.Offset), payload[..size]));
            }
            case FuseOpcode.Write:
            {
                Need(ReadWriteIn.TryRead(ref r, out var m));
                var data = r.ReadRest();
                Need(data.Length >= m.Size);
                int written = _bridge.Write(h.NodeId, m.Handle, Offset(m.Offset), data[..(int)m.Size],
                    (m.IoFlags & WriteKillSetId) != 0, (m.IoFlags & WriteFromCache) != 0);
                ScalarReply.WriteUInt32(Payload(reply), (uint)written);
                return Ok(reply, u, ScalarReply.WireSize);
            }
            case FuseOpcode.StatFs:
            {
                var s = _bridge.GetStatistics();
                new StatFsOut((ulong)s.Blocks, (ulong)s.BlocksFree, (ulong)s.BlocksAvailable, (ulong)s.Files,
                    (ulong)s.FilesFree, (uint)s.BlockSize, (uint)s.MaxNameLength, (uint)s.BlockSize).WriteTo(Payload(reply));
                return Ok(reply, u, StatFsOut.WireSize);
            }
            case FuseOpcode.Release:
                Need(ReleaseIn.TryRead(ref r, out var release));
                _bridge.Release(release.Handle);
                return Ok(reply, u, 0);
            case FuseOpcode.Fsync:
                Need(FsyncIn.TryRead(ref r, out var fsync));
                _bridge.Fsync(h.NodeId, fsync.Handle, fsync.DataOnly);
                return Ok(reply, u, 0);
            case FuseOpcode.Flush:
                // Without flush_on_close the layout's Flush runs at RELEASE. The kernel ignores
                // FOPEN_NOFLUSH under the writeback cache and would send a synchronous FLUSH per close(2);
                // ENOSYS makes it stop asking for good (fuse_flush: fc->no_flush).
                if (!_options.FlushOnClose) return Error(reply, u, Errno.ENOSYS);
                Need(FlushIn.TryRead(ref r, out var flush));
                _bridge.Flush(flush.Handle);
                return Ok(reply, u, 0);
            case FuseOpcode.OpenDir:
            {
                Need(OpenIn.TryRead(ref r, out var m));
                ulong fh = _bridge.OpenDirectory(h.NodeId, (OpenFlags)m.Flags);
                new OpenOut(fh, _bridge.DirectoryReplyFlags).WriteTo(Payload(reply));
                return Ok(reply, u, OpenOut.WireSize);
            }
            case FuseOpcode.ReadDir:
            {
                Need(ReadWriteIn.TryRead(ref r, out var m));
                return Ok(reply, u, ReadDirectory(m, replyMemory[FuseOutHeader.Size..]));
            }
            case FuseOpcode.ReadDirPlus:
            {
                Need(ReadWriteIn.TryRead(ref r, out var m));
                return Ok(reply, u, ReadDirectoryPlus(h.NodeId, m, reply[FuseOutHeader.Size..]));
            }
            case FuseOpcode.ReleaseDir:
                Need(ReleaseIn.TryRead(ref r, out var releaseDir));
                _bridge.ReleaseDirectory(releaseDir.Handle);
                return Ok(reply, u, 0);
            case FuseOpcode.FsyncDir:
                Need(FsyncIn.TryRead(ref r, out var fsyncDir));
                _bridge.FsyncDirectory(fsyncDir.Handle, fsyncDir.DataOnly);
                return Ok(reply, u, 0);
            case FuseOpcode.Access:
                Need(AccessIn.TryRead(ref r, out var access));
                _bridge.Access(h.NodeId, (AccessMode)(access.Mask & 7), who);
                return Ok(reply, u, 0);
            case FuseOpcode.Destroy:
                Destroyed = true;
                return Ok(reply, u, 0);
            case FuseOpcode.Fallocate:
            {
                Need(FallocateIn.TryRead(ref r, out var m));
                _bridge.Allocate(m.Handle, (FallocateMode)m.Mode, Offset(m.Offset), Offset(m.Length));
                return Ok(reply, u, 0);
            }
            case FuseOpcode.Lseek:
            {
                Need(LseekIn.TryRead(ref r, out var m));
                if (m.Whence is not (LseekIn.SeekData or LseekIn.SeekHole)) throw new FsException(Errno.EINVAL);
                long found = _bridge.SeekData(h.NodeId, Offset(m.Offset), m.Whence == LseekIn.SeekHole);
                ScalarReply.WriteUInt64(Payload(reply), (ulong)found);
                return Ok(reply, u, ScalarReply.WireSize);
            }
            case FuseOpcode.SyncFs:
                _bridge.SyncFileSystem();
                return Ok(reply, u, 0);
            case FuseOpcode.SetXattr or FuseOpcode.GetXattr or FuseOpcode.ListXattr or FuseOpcode.RemoveXattr:
                return ExtendedAttributes(h, ref r, reply);
            default:
                // ENOSYS tells the kernel the operation is not implemented; it stops asking for most.
                return Error(reply, u, Errno.ENOSYS);
        }
    }

    private int Init(ulong unique, ref FuseReader r, Span<byte> reply)
    {
        Need(InitIn.TryRead(ref r, out var init));
        if (init.Major > 7)
        {
            // Newer major: answer with ours and wait for the kernel to retry at 7.
            var ours = new InitOut(7, OurMinor, 0, InitFlags.None, 0, 0, 0, 0, 0);
            return Ok(reply, unique, ours.WriteTo(Payload(reply), 0));
        }
        if (init.Major < 7 || init.Minor < OldestMinor)
        {
            _log($"fuse: kernel protocol {init.Major}.{init.Minor} is older than 7.{OldestMinor}; refusing");
            return Error(reply, unique, (Errno)71); // EPROTO
        }
        uint minor = Math.Min(init.Minor, OurMinor);
        var wanted = Wanted | (_options.WritebackCache ? InitFlags.WritebackCache : InitFlags.None)
                     | (_options.IoUring ? InitFlags.OverIoUring : InitFlags.None);
        var granted = init.Flags & wanted;
        int pages = (MaxWrite + 4095) / 4096;
        var result = new InitOut(
            7, minor, init.MaxReadahead, granted, MaxBackground: 64, CongestionThreshold: 48,
            MaxWrite: (uint)MaxWrite, TimeGranularity: TimeGranularity(), MaxPages: (ushort)Math.Min(pages, ushort.MaxValue));
        int length = result.WriteTo(Payload(reply), minor);
        Negotiated = result;
        _bridge.KernelOwnsAppend = (granted & InitFlags.WritebackCache) != 0;
        _initialized = true;
        _log($"fuse: protocol 7.{minor}, flags 0x{(ulong)granted:x}, max_write {MaxWrite}");
        Initialized?.Invoke();
        return Ok(reply, unique, length);
    }

    /// <summary>time_gran: the layout's timestamp step in ns, as a power of ten (kernel requirement), at most 1 s.</summary>
    private uint TimeGranularity()
    {
        long ns = Math.Max(1, _bridge.FileSystem.Capabilities.TimeGranularity.Ticks * 100);
        uint gran = 1;
        while (gran < ns && gran < 1_000_000_000) gran *= 10;
        return gran;
    }

    private int ExtendedAttributes(in FuseInHeader h, ref FuseReader r, Span<byte> reply)
    {
        ulong u = h.Unique;
        // ENOSYS makes the kernel remember the operation as absent and answer EOPNOTSUPP itself
        // from then on, sparing a round trip per write (security.capability checks).
        if (!_bridge.HasExtendedAttributes) return Error(reply, u, Errno.ENOSYS);
        switch (h.Opcode)
        {
            case FuseOpcode.SetXattr:
            {
                bool extended = Negotiated is { } n && (n.Flags & InitFlags.SetxattrExt) != 0;
                Need(XattrIn.TryReadSet(ref r, extended, out var m));
                string name = Name(ref r);
                var value = r.ReadRest();
                Need(value.Length >= m.Size);
                _bridge.SetExtendedAttribute(h.NodeId, name, value[..(int)m.Size], (int)m.Flags);
                return Ok(reply, u, 0);
            }
            case FuseOpcode.GetXattr:
            {
                Need(XattrIn.TryReadGet(ref r, out var m));
                byte[] value = _bridge.GetExtendedAttribute(h.NodeId, Name(ref r));
                return SizedReply(reply, u, m.Size, value);
            }
            case FuseOpcode.ListXattr:
            {
                Need(XattrIn.TryReadGet(ref r, out var m));
                var names = _bridge.ListExtendedAttributes(h.NodeId);
                var list = new List<byte>();
                foreach (string name in names)
                {
                    list.AddRange(Encoding.UTF8.GetBytes(name));
                    list.Add(0);
                }
                return SizedReply(reply, u, m.Size, list.ToArray());
            }
            default:
                _bridge.RemoveExtendedAttribute(h.NodeId, Name(ref r));
                return Ok(reply, u, 0);
        }
    }

    /// <summary>getxattr/listxattr: size 0 asks for the length; too small a size is ERANGE.</summary>
    private static int SizedReply(Span<byte> reply, ulong unique, uint size, byte[] value)
    {
        if (size == 0)
        {
            ScalarReply.WriteUInt32(Payload(reply), (uint)value.Length);
            return Ok(reply, unique, ScalarReply.WireSize);
        }
        if (value.Length > size || value.Length > reply.Length - FuseOutHeader.Size) return Error(reply, unique, Errno.ERANGE);
        value.CopyTo(Payload(reply));
        return Ok(reply, unique, value.Length);
    }

    private int ReadDirectory(ReadWriteIn m, Memory<byte> destination)
    {
        var writer = new DirentWriter(destination[..(int)Math.Min(m.Size, (uint)destination.Length)]);
        _bridge.ReadDirectory(m.Handle, Offset(m.Offset), writer.Visit);
        return writer.Length;
    }

    private int ReadDirectoryPlus(ulong directory, ReadWriteIn m, Span<byte> destination)
    {
        // The visitor only collects (layouts may hold locks while calling it); attributes are fetched
        // after, and each entry's size is fixed up front, so exactly what was collected fits.
        int limit = (int)Math.Min(m.Size, (uint)destination.Length);
        var entries = new List<DirectoryEntry>();
        int used = 0;
        _bridge.ReadDirectory(m.Handle, Offset(m.Offset), (in DirectoryEntry e) =>
        {
            int size = FuseDirent.PlusSizeFor(Encoding.UTF8.GetByteCount(e.Name));
            if (used + size > limit) return false;
            used += size;
            entries.Add(e);
            return true;
        });
        int position = 0;
        foreach (var e in entries)
        {
            var record = destination[position..];
            EntryOut entry = default;
            if (e.Name is not ("." or ".."))
            {
                try
                {
                    // A lookup, not just attributes: the kernel will hold the node (and FORGET it), so the layout
                    // must count it as referenced (IFileSystem), or an unlink frees an inode the kernel still uses.
                    if (_bridge.Lookup(directory, e.Name) is { } attributes) entry = EntryFor(attributes);
                }
                catch (FsException ex)
                {
                    // Node id 0 lists the name without handing the kernel a node.
                    _log($"fuse: readdirplus: attributes of '{e.Name}' failed: {ex.Message}");
                }
            }
            entry.WriteTo(record);
            position += EntryOut.WireSize;
            position += new FuseDirent(e.Node, (ulong)e.NextOffset, e.Type, e.Name).TryWrite(destination[position..]);
        }
        return position;
    }

    /// <summary>Encodes READDIR entries straight into the reply while the layout lists.</summary>
    private sealed class DirentWriter(Memory<byte> destination)
    {
        public int Length { get; private set; }

        public bool Visit(in DirectoryEntry e)
        {
            int size = new FuseDirent(e.Node, (ulong)e.NextOffset, e.Type, e.Name).TryWrite(destination.Span[Length..]);
            Length += size;
            return size > 0;
        }
    }

    private static SetAttributes ToChanges(in SetAttrIn s, out bool any)
    {
        var v = s.Valid;
        bool Has(SetAttrValid bit) => (v & bit) != 0;
        if (Has(SetAttrValid.Size) && s.Size > long.MaxValue) throw new FsException(Errno.EFBIG);
        var changes = new SetAttributes
        {
            Mode = Has(SetAttrValid.Mode) ? s.Mode & UnixFileMode.PermissionMask : null,
            Uid = Has(SetAttrValid.Uid) ? s.Uid : null,
            Gid = Has(SetAttrValid.Gid) ? s.Gid : null,
            Size = Has(SetAttrValid.Size) ? (long)s.Size : null,
            Atime = Has(SetAttrValid.AtimeNow) ? TimeChange.Now
                : Has(SetAttrValid.Atime) ? TimeChange.At(new Timestamp((long)s.Atime, s.AtimeNsec)) : null,
            Mtime = Has(SetAttrValid.MtimeNow) ? TimeChange.Now
                : Has(SetAttrValid.Mtime) ? TimeChange.At(new Timestamp((long)s.Mtime, s.MtimeNsec)) : null,
            Ctime = Has(SetAttrValid.Ctime) ? new Timestamp((long)s.Ctime, s.CtimeNsec) : null,
        };
        any = changes.Mode is not null || changes.Uid is not null || changes.Gid is not null || changes.Size is not null
              || changes.Atime is not null || changes.Mtime is not null || changes.Ctime is not null;
        return changes;
    }

    private FuseAttr AttrFor(NodeAttributes a) => new(
        a.Node, (ulong)a.Size, (ulong)a.Blocks, a.Atime.Seconds, a.Mtime.Seconds, a.Ctime.Seconds,
        a.Atime.Nanoseconds, a.Mtime.Nanoseconds, a.Ctime.Nanoseconds, a.Mode, a.Links, a.Uid, a.Gid, a.Rdev,
        (uint)a.BlockSize);

    private EntryOut EntryFor(NodeAttributes a) =>
        new(Bridge.Nodes.ToFuse(a.Node), 0, _entryTimeout, _attrTimeout, AttrFor(a));

    private int Entry(Span<byte> reply, ulong unique, NodeAttributes a)
    {
        EntryFor(a).WriteTo(Payload(reply));
        return Ok(reply, unique, EntryOut.WireSize);
    }

    private int Attr(Span<byte> reply, ulong unique, NodeAttributes a)
    {
        new AttrOut(_attrTimeout, AttrFor(a)).WriteTo(Payload(reply));
        return Ok(reply, unique, AttrOut.WireSize);
    }

    private static string Name(ref FuseReader r) =>
        r.TryReadName(out string name) ? name : throw new FsException(Errno.EINVAL, "name not NUL-terminated");

    private static void Need(bool parsed)
    {
        if (!parsed) throw new FsException(Errno.EINVAL, "request body too short");
    }

    private static long Offset(ulong value) =>
        value <= long.MaxValue ? (long)value : throw new FsException(Errno.EINVAL, "offset out of range");

    private static Span<byte> Payload(Span<byte> reply) => reply[FuseOutHeader.Size..];

    private static int Ok(Span<byte> reply, ulong unique, int payloadLength)
    {
        int length = FuseOutHeader.Size + payloadLength;
        new FuseOutHeader((uint)length, 0, unique).WriteTo(reply);
        return length;
    }

    private static int Error(Span<byte> reply, ulong unique, Errno errno)
    {
        new FuseOutHeader(FuseOutHeader.Size, -(int)errno, unique).WriteTo(reply);
        return FuseOutHeader.Size;
    }
}
