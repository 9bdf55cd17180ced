using System.Buffers.Binary;
using System.Text;
using MountFs.Fuse.Protocol;
using MountFs.Memory;
using MountFs.Vfs;

namespace MountFs.Fuse.Tests;

/// <summary>The dispatcher fed byte fixtures, no kernel involved.</summary>
public sealed class DispatcherTests
{
    private const InitFlags Kernel638 = (InitFlags)0x3_FFFF_FFFFUL;
    private readonly RecordingFileSystem _fs = new(new MemoryFileSystem());
    private readonly FuseDispatcher _d;
    private readonly byte[] _reply;

    public DispatcherTests()
    {
        // The bridge's own O_APPEND duty is only visible without the writeback cache (the kernel owns appends with it).
        _d = new FuseDispatcher(_fs, new FuseOptions { WritebackCache = false });
        _reply = new byte[_d.ReplyBufferSize];
    }

    private Reply? Send(byte[] request)
    {
        int length = _d.Process(request, _reply);
        return length == 0 ? null : Reply.Parse(_reply, length);
    }

    private Reply Call(RequestBuilder b, uint uid = 0)
    {
        var r = Send(b.Build(uid));
        Assert.NotNull(r);
        return r;
    }

    private void Init() => Assert.Equal(0, Call(RequestBuilder.Init(38, Kernel638)).Error);

    private EntryOut Lookup(ulong parent, string name)
    {
        var r = Call(new RequestBuilder(FuseOpcode.Lookup, parent).Name(name));
        Assert.Equal(0, r.Error);
        return EntryOut.Parse(r.Payload);
    }

    private EntryOut MkDir(ulong parent, string name)
    {
        var r = Call(new RequestBuilder(FuseOpcode.MkDir, parent).U32(0x1ED).U32(0).Name(name));
        Assert.Equal(0, r.Error);
        return EntryOut.Parse(r.Payload);
    }

    private (EntryOut Entry, ulong Fh) Create(ulong parent, string name, uint flags = 0x42)
    {
        var r = Call(new RequestBuilder(FuseOpcode.Create, parent).U32(flags).U32(0x81A4).U32(0).U32(0).Name(name));
        Assert.Equal(0, r.Error);
        return (EntryOut.Parse(r.Payload), OpenOut.Parse(r.Payload.AsSpan(EntryOut.WireSize)).Handle);
    }

    [Fact]
    public void InitGrantsWhatBothSidesWant()
    {
        var r = Call(RequestBuilder.Init(38, Kernel638));
        Assert.Equal(0, r.Error);
        Assert.Equal(64, r.Payload.Length);
        var init = InitOut.Parse(r.Payload);
        Assert.Equal((7u, 38u), (init.Major, init.Minor));
        Assert.Equal(1u << 20, init.MaxWrite);
        Assert.Equal(256, init.MaxPages);
        foreach (var flag in new[] { InitFlags.AsyncRead, InitFlags.BigWrites, InitFlags.ParallelDirops, InitFlags.DoReaddirplus,
                     InitFlags.ReaddirplusAuto, InitFlags.AutoInvalData, InitFlags.MaxPages, InitFlags.AtomicOTrunc })
            Assert.True(init.Flags.HasFlag(flag), flag.ToString());
        // Not honoured, so never advertised.
        foreach (var flag in new[] { InitFlags.PosixLocks, InitFlags.FlockLocks, InitFlags.ExportSupport,
                     InitFlags.SecurityCtx, InitFlags.HandleKillpriv, InitFlags.PosixAcl })
            Assert.False(init.Flags.HasFlag(flag), flag.ToString());
    }

    [Fact]
    public void WritebackCacheByDefaultAndOffWhenAsked()
    {
        var d = new FuseDispatcher(new MemoryFileSystem(), new FuseOptions());
        int n = d.Process(RequestBuilder.Init(38, Kernel638).Build(), _reply);
        Assert.True(InitOut.Parse(Reply.Parse(_reply, n).Payload).Flags.HasFlag(InitFlags.WritebackCache));
        Assert.True(d.Bridge.KernelOwnsAppend);
        // _d was built with WritebackCache = false.
        Init();
        Assert.False(_d.Negotiated!.Value.Flags.HasFlag(InitFlags.WritebackCache));
        Assert.False(_d.Bridge.KernelOwnsAppend);
    }

    [Fact]
    public void OnlyRequestsThatMayWaitHandTheReaderRoleOn()
    {
        Init();
        var (entry, fh) = Create(1, "f");
        var release = new RequestBuilder(FuseOpcode.Release, entry.NodeId).U64(fh).U32(0).U32(0).U64(0).Build();
        Assert.False(_d.MayWait(release));
        Assert.False(_d.MayWait(new RequestBuilder(FuseOpcode.Forget, entry.NodeId).U64(1).Build()));
        Assert.False(_d.MayWait(new RequestBuilder(FuseOpcode.Lookup, 1).Name("f").Build()));
        Assert.True(_d.MayWait(RequestBuilder.Io(FuseOpcode.Read, entry.NodeId, fh, 0, 10).Build()));
        Call(RequestBuilder.Io(FuseOpcode.Write, entry.NodeId, fh, 0, 5).Bytes("hello"u8));
        // Written through: the layout's flush at release has work.
        Assert.True(_d.MayWait(release));
        // A big unlinked file's last FORGET frees its data.
        var (big, bigFh) = Create(1, "big");
        Call(RequestBuilder.Io(FuseOpcode.Write, big.NodeId, bigFh, 4 << 20, 1).Bytes("x"u8));
        Assert.False(_d.MayWait(new RequestBuilder(FuseOpcode.Forget, big.NodeId).U64(1).Build()));
        Assert.Equal(0, Call(new RequestBuilder(FuseOpcode.Unlink, 1).Name("big")).Error);
        Assert.True(_d.MayWait(new RequestBuilder(FuseOpcode.Forget, big.NodeId).U64(1).Build()));
        // A truncating SETATTR may free data; a chmod does not.
        Assert.True(_d.MayWait(new RequestBuilder(FuseOpcode.SetAttr, entry.NodeId).U32(1 << 3).U32(0).Build()));
        Assert.False(_d.MayWait(new RequestBuilder(FuseOpcode.SetAttr, entry.NodeId).U32(1 << 0).U32(0).Build()));
    }

    [Fact]
    public void FlushIsEnosysUnlessFlushOnClose()
    {
        // The kernel sends FLUSH per close(2) under the writeback cache whatever FOPEN_NOFLUSH says;
        // ENOSYS stops it for good, and the layout's Flush still runs once at RELEASE.
        Init();
        var (entry, fh) = Create(1, "f");
        Assert.Equal(-38, Call(new RequestBuilder(FuseOpcode.Flush, entry.NodeId).U64(fh).U32(0).U32(0).U64(0)).Error);
        var flushes = new RecordingFileSystem(new MemoryFileSystem());
        var d = new FuseDispatcher(flushes, new FuseOptions { FlushOnClose = true });
        d.Process(RequestBuilder.Init(38, Kernel638).Build(), _reply);
        int n = d.Process(new RequestBuilder(FuseOpcode.Create, 1).U32(0x41).U32(0x81A4).U32(0).U32(0).Name("g").Build(), _reply);
        var created = Reply.Parse(_reply, n);
        Assert.Equal(0, created.Error);
        ulong gfh = OpenOut.Parse(created.Payload.AsSpan(EntryOut.WireSize)).Handle;
        n = d.Process(new RequestBuilder(FuseOpcode.Flush, EntryOut.Parse(created.Payload).NodeId).U64(gfh).U32(0).U32(0).U64(0).Build(), _reply);
        Assert.Equal(0, Reply.Parse(_reply, n).Error);
        Assert.Equal(1, flushes.FlushCount);
    }

    [Fact]
    public void OlderKernelsGetLessAndShorterReplies()
    {
        var offered = InitFlags.AsyncRead | InitFlags.BigWrites | InitFlags.DoReaddirplus;
        var r = Call(RequestBuilder.Init(26, offered));
        var init = InitOut.Parse(r.Payload);
        Assert.Equal(26u, init.Minor);
        Assert.Equal(offered, init.Flags);

        var old = new FuseDispatcher(new MemoryFileSystem(), new FuseOptions());
        int n = old.Process(RequestBuilder.Init(22, InitFlags.AsyncRead).Build(), _reply);
        Assert.Equal(16 + 24, n);

        var ancient = new FuseDispatcher(new MemoryFileSystem(), new FuseOptions());
        n = ancient.Process(RequestBuilder.Init(8, InitFlags.None).Build(), _reply);
        Assert.Equal(-71, Reply.Parse(_reply, n).Error);

        var future = new FuseDispatcher(new MemoryFileSystem(), new FuseOptions());
        n = future.Process(RequestBuilder.Init(0, InitFlags.None, major: 8).Build(), _reply);
        var answer = Reply.Parse(_reply, n);
        Assert.Equal(0, answer.Error);
        Assert.Equal(8, answer.Payload.Length);
        Assert.Equal(7u, BinaryPrimitives.ReadUInt32LittleEndian(answer.Payload));
        Assert.Null(future.Negotiated);
    }

    [Fact]
    public void RequestsBeforeInitFailWithEio()
    {
        Assert.Equal(-5, Call(new RequestBuilder(FuseOpcode.GetAttr, 1).U64(0).U64(0)).Error);
    }

    [Fact]
    public void UnknownOpcodeIsEnosysAndUnansweredOnesStayUnanswered()
    {
        Init();
        Assert.Equal(-38, Call(new RequestBuilder((FuseOpcode)9999, 1)).Error);
        Assert.Equal(-38, Call(new RequestBuilder(FuseOpcode.Ioctl, 1).U64(0)).Error);
        Assert.Equal(-38, Call(new RequestBuilder(FuseOpcode.Statx, 1).U64(0)).Error);
        Assert.Null(Send(new RequestBuilder(FuseOpcode.Interrupt, 0).U64(2).Build()));
        Assert.Null(Send(new RequestBuilder(FuseOpcode.NotifyReply, 1).U64(0).Build()));
        Assert.Null(Send(new RequestBuilder(FuseOpcode.Forget, 5).U64(1).Build()));
        Assert.Null(Send(new RequestBuilder(FuseOpcode.BatchForget, 0).U32(1).U32(0).U64(5).U64(1).Build()));
    }

    [Fact]
    public void RootIsFuseIdOneAndStatShowsLayoutIds()
    {
        Init();
        var r = Call(new RequestBuilder(FuseOpcode.GetAttr, 1).U32(0).U32(0).U64(0));
        var attr = AttrOut.Parse(r.Payload);
        Assert.Equal(_fs.RootNode, attr.Attr.Ino);
        Assert.Equal(0x4000u, attr.Attr.Mode & 0xF000);
        Assert.Equal(FuseTimeout.From(new FuseOptions().AttributeTimeout), attr.AttrValid);

        var dir = MkDir(1, "d");
        Assert.NotEqual(0UL, dir.NodeId);
        Assert.NotEqual(1UL, dir.NodeId);
        Assert.Equal(dir.NodeId, Lookup(1, "d").NodeId);
    }

    [Fact]
    public void LookupCountsReachTheLayoutOnlyAtZero()
    {
        Init();
        var made = MkDir(1, "d");          // 1
        Lookup(1, "d");                    // 2
        Lookup(1, "d");                    // 3
        ulong layoutId = made.Attr.Ino;
        Assert.Equal(3UL, _d.Bridge.Nodes.LookupCount(made.NodeId));
        Assert.Null(Send(new RequestBuilder(FuseOpcode.Forget, made.NodeId).U64(2).Build()));
        Assert.Empty(_fs.Forgotten);
        Assert.Null(Send(new RequestBuilder(FuseOpcode.BatchForget, 0).U32(1).U32(0).U64(made.NodeId).U64(1).Build()));
        Assert.Equal([layoutId], _fs.Forgotten);
        Assert.Equal(0UL, _d.Bridge.Nodes.LookupCount(made.NodeId));
        // The root is never counted nor forgotten.
        Assert.Null(Send(new RequestBuilder(FuseOpcode.Forget, 1).U64(1).Build()));
        Assert.Equal([layoutId], _fs.Forgotten);
    }

    [Fact]
    public void TimeoutsComeFromTheOptions()
    {
        var d = new FuseDispatcher(new MemoryFileSystem(), new FuseOptions
        {
            EntryTimeout = TimeSpan.FromSeconds(2.25), AttributeTimeout = TimeSpan.FromMilliseconds(1500),
            NegativeTimeout = TimeSpan.FromSeconds(3),
        });
        d.Process(RequestBuilder.Init(38, Kernel638).Build(), _reply);
        int n = d.Process(new RequestBuilder(FuseOpcode.MkDir, 1).U32(0x1ED).U32(0).Name("d").Build(), _reply);
        var entry = EntryOut.Parse(Reply.Parse(_reply, n).Payload);
        Assert.Equal(new FuseTimeout(2, 250_000_000), entry.EntryValid);
        Assert.Equal(new FuseTimeout(1, 500_000_000), entry.AttrValid);
        // A positive negative time-out caches the miss: node id 0 instead of ENOENT.
        n = d.Process(new RequestBuilder(FuseOpcode.Lookup, 1).Name("absent").Build(), _reply);
        var miss = Reply.Parse(_reply, n);
        Assert.Equal(0, miss.Error);
        Assert.Equal(0UL, EntryOut.Parse(miss.Payload).NodeId);
        Assert.Equal(new FuseTimeout(3, 0), EntryOut.Parse(miss.Payload).EntryValid);
    }

    [Fact]
    public void NegativeLookupIsEnoentWithAZeroNegativeTimeout()
    {
        var d = new FuseDispatcher(new MemoryFileSystem(), new FuseOptions { NegativeTimeout = TimeSpan.Zero });
        d.Process(RequestBuilder.Init(38, Kernel638).Build(), _reply);
        int n = d.Process(new RequestBuilder(FuseOpcode.Lookup, 1).Name("missing").Build(), _reply);
        Assert.Equal(-2, Reply.Parse(_reply, n).Error);
        // The default caches the miss for as long as found names.
        Init();
        var miss = Call(new RequestBuilder(FuseOpcode.Lookup, 1).Name("missing"));
        Assert.Equal((0, 0UL), (miss.Error, EntryOut.Parse(miss.Payload).NodeId));
        Assert.Equal(FuseTimeout.From(new FuseOptions().EntryTimeout), EntryOut.Parse(miss.Payload).EntryValid);
    }

    [Fact]
    public void NamesAreValidated()
    {
        Init();
        Assert.Equal(-22, Call(new RequestBuilder(FuseOpcode.MkDir, 1).U32(0x1ED).U32(0).Name("a/b")).Error);
        Assert.Equal(-36, Call(new RequestBuilder(FuseOpcode.MkDir, 1).U32(0x1ED).U32(0).Name(new string('x', 256))).Error);
        Assert.Equal(-17, Call(new RequestBuilder(FuseOpcode.MkDir, 1).U32(0x1ED).U32(0).Name("..")).Error);
        // A name without its NUL terminator.
        Assert.Equal(-22, Call(new RequestBuilder(FuseOpcode.Lookup, 1).Bytes("abc"u8)).Error);
    }

    [Fact]
    public void TruncatedBodiesAreEinval()
    {
        Init();
        Assert.Equal(-22, Call(new RequestBuilder(FuseOpcode.SetAttr, 1).U64(0)).Error);
        Assert.Equal(-22, Call(new RequestBuilder(FuseOpcode.Read, 1).U64(1)).Error);
        Assert.Equal(-22, Call(new RequestBuilder(FuseOpcode.Write, 1).U64(1).U64(0).U32(100).U32(0).U64(0).U32(0).U32(0).Bytes(new byte[10])).Error);
        Assert.Equal(-22, Call(new RequestBuilder(FuseOpcode.MkNod, 1).U32(0x81A4)).Error);
        // A header whose len runs past the buffer still gets an answer to its unique.
        var bytes = new RequestBuilder(FuseOpcode.GetAttr, 1, unique: 77).U64(0).U64(0).Build();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, 4000);
        var r = Send(bytes)!;
        Assert.Equal((-22, 77UL), (r.Error, r.Unique));
        Assert.Null(Send(new byte[20]));
    }

    [Fact]
    public void WriteReadAppendAndTruncateOnOpen()
    {
        Init();
        var (entry, fh) = Create(1, "f");
        var w = Call(RequestBuilder.Io(FuseOpcode.Write, entry.NodeId, fh, 0, 5).Bytes("hello"u8));
        Assert.Equal(5u, BinaryPrimitives.ReadUInt32LittleEndian(w.Payload));
        Assert.Equal(0, Call(new RequestBuilder(FuseOpcode.Release, entry.NodeId).U64(fh).U32(0).U32(0).U64(0)).Error);

        // O_WRONLY|O_APPEND: the offset the kernel sends is ignored in favour of EOF.
        var open = Call(new RequestBuilder(FuseOpcode.Open, entry.NodeId).U32(0x401).U32(0));
        ulong afh = OpenOut.Parse(open.Payload).Handle;
        Call(RequestBuilder.Io(FuseOpcode.Write, entry.NodeId, afh, 0, 3).Bytes("abc"u8));
        var read = Call(RequestBuilder.Io(FuseOpcode.Read, entry.NodeId, afh, 0, 100));
        Assert.Equal("helloabc", Encoding.ASCII.GetString(read.Payload));

        // O_RDWR|O_TRUNC empties the file (ATOMIC_O_TRUNC is ours to honour).
        var trunc = Call(new RequestBuilder(FuseOpcode.Open, entry.NodeId).U32(0x202).U32(0));
        Assert.Equal(OpenReplyFlags.KeepCache | OpenReplyFlags.NoFlush, OpenOut.Parse(trunc.Payload).Flags);
        var attr = AttrOut.Parse(Call(new RequestBuilder(FuseOpcode.GetAttr, entry.NodeId).U32(0).U32(0).U64(0)).Payload);
        Assert.Equal(0UL, attr.Attr.Size);

        // O_DIRECT asks the kernel to bypass its page cache.
        var direct = Call(new RequestBuilder(FuseOpcode.Open, entry.NodeId).U32(0x4000).U32(0));
        Assert.Equal(OpenReplyFlags.DirectIo | OpenReplyFlags.NoFlush, OpenOut.Parse(direct.Payload).Flags);

        Assert.Equal(-9, Call(RequestBuilder.Io(FuseOpcode.Read, entry.NodeId, 999, 0, 10)).Error);
    }

    [Fact]
    public void ReaddirPagesWithCookiesAndReaddirplusCountsLookups()
    {
        Init();
        var dir = MkDir(1, "d");
        for (int i = 0; i < 50; i++) MkDir(dir.NodeId, $"entry-{i:D3}");
        var open = Call(new RequestBuilder(FuseOpcode.OpenDir, dir.NodeId).U32(0).U32(0));
        ulong fh = OpenOut.Parse(open.Payload).Handle;

        var names = new List<string>();
        ulong offset = 0;
        int pages = 0;
        while (true)
        {
            var r = Call(RequestBuilder.Io(FuseOpcode.ReadDir, dir.NodeId, fh, offset, 256));
            Assert.Equal(0, r.Error);
            if (r.Payload.Length == 0) break;
            pages++;
            var span = r.Payload.AsSpan();
            while (span.Length > 0)
            {
                Assert.True(FuseDirent.TryParse(span, out var d, out int size));
                names.Add(d.Name);
                offset = d.NextOffset;
                span = span[size..];
            }
        }
        Assert.True(pages > 5);
        Assert.Equal(52, names.Count);
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Contains(".", names);
        Assert.Contains("..", names);

        ulong entryId = Lookup(dir.NodeId, "entry-000").NodeId;
        Assert.Equal(2UL, _d.Bridge.Nodes.LookupCount(entryId)); // MKDIR + LOOKUP
        var plus = Call(RequestBuilder.Io(FuseOpcode.ReadDirPlus, dir.NodeId, fh, 0, 4096));
        var p = plus.Payload.AsSpan();
        int counted = 0;
        while (p.Length > 0)
        {
            var entry = EntryOut.Parse(p);
            Assert.True(FuseDirent.TryParse(p[EntryOut.WireSize..], out var d, out int size));
            if (d.Name is "." or "..") Assert.Equal(0UL, entry.NodeId);
            else
            {
                Assert.Equal(d.Ino, entry.Attr.Ino);
                Assert.Equal(0x4000u, entry.Attr.Mode & 0xF000);
                counted++;
            }
            p = p[(EntryOut.WireSize + size)..];
        }
        Assert.True(counted > 10);
        Assert.Equal(3UL, _d.Bridge.Nodes.LookupCount(entryId));
    }

    [Fact]
    public void ReaddirplusLooksEntriesUpSoAListedNodeUnlinkedLaterLivesUntilItsForget()
    {
        Init();
        var dir = MkDir(1, "d");
        var (file, fh) = Create(dir.NodeId, "f");
        Assert.Equal(0, Call(new RequestBuilder(FuseOpcode.Release, file.NodeId).U64(fh).U32(0).U32(0).U64(0)).Error);
        Assert.Null(Send(new RequestBuilder(FuseOpcode.Forget, file.NodeId).U64(1).Build())); // the layout forgets it
        Assert.Equal([file.Attr.Ino], _fs.Forgotten);

        var open = Call(new RequestBuilder(FuseOpcode.OpenDir, dir.NodeId).U32(0).U32(0));
        ulong dh = OpenOut.Parse(open.Payload).Handle;
        var plus = Call(RequestBuilder.Io(FuseOpcode.ReadDirPlus, dir.NodeId, dh, 0, 4096));
        Assert.Equal(0, plus.Error);
        ulong listed = 0;
        for (var p = plus.Payload.AsSpan(); p.Length > 0;)
        {
            var entry = EntryOut.Parse(p);
            Assert.True(FuseDirent.TryParse(p[EntryOut.WireSize..], out var d, out int size));
            if (d.Name == "f") listed = entry.NodeId;
            p = p[(EntryOut.WireSize + size)..];
        }
        Assert.NotEqual(0UL, listed);

        // The kernel unlinks through the dentry READDIRPLUS gave it, then still uses the node (times, attributes).
        Assert.Equal(0, Call(new RequestBuilder(FuseOpcode.Unlink, dir.NodeId).Name("f")).Error);
        Assert.Equal(0, Call(new RequestBuilder(FuseOpcode.GetAttr, listed).U32(0).U32(0).U64(0)).Error);
        Assert.Null(Send(new RequestBuilder(FuseOpcode.Forget, listed).U64(1).Build()));
        Assert.Equal([file.Attr.Ino, file.Attr.Ino], _fs.Forgotten);
    }

    [Fact]
    public void ExtendedAttributesMapToTheLayoutOrEnosys()
    {
        Init();
        var (entry, _) = Create(1, "x");
        Assert.Equal(0, Call(new RequestBuilder(FuseOpcode.SetXattr, entry.NodeId).U32(3).U32(0).Name("user.a").Bytes("abc"u8)).Error);
        var size = Call(new RequestBuilder(FuseOpcode.GetXattr, entry.NodeId).U32(0).U32(0).Name("user.a"));
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(size.Payload));
        Assert.Equal("abc"u8.ToArray(), Call(new RequestBuilder(FuseOpcode.GetXattr, entry.NodeId).U32(10).U32(0).Name("user.a")).Payload);
        Assert.Equal(-34, Call(new RequestBuilder(FuseOpcode.GetXattr, entry.NodeId).U32(2).U32(0).Name("user.a")).Error);
        Assert.Equal("user.a\0"u8.ToArray(), Call(new RequestBuilder(FuseOpcode.ListXattr, entry.NodeId).U32(100).U32(0)).Payload);

        var plain = new MemoryFileSystem(new MemoryFileSystemOptions { Capabilities = new FileSystemCapabilities() });
        var d = new FuseDispatcher(plain, new FuseOptions());
        d.Process(RequestBuilder.Init(38, Kernel638).Build(), _reply);
        int n = d.Process(new RequestBuilder(FuseOpcode.GetXattr, 1).U32(0).U32(0).Name("user.a").Build(), _reply);
        Assert.Equal(-38, Reply.Parse(_reply, n).Error);
    }

    [Fact]
    public void SeekDataAndHoleAndStatfs()
    {
        Init();
        var (entry, fh) = Create(1, "sparse");
        Call(RequestBuilder.Io(FuseOpcode.Write, entry.NodeId, fh, 5L << 30, 4).Bytes("data"u8));
        var data = Call(new RequestBuilder(FuseOpcode.Lseek, entry.NodeId).U64(fh).U64(0).U32(3).U32(0));
        Assert.Equal(0, data.Error);
        Assert.True(BinaryPrimitives.ReadUInt64LittleEndian(data.Payload) >= (5UL << 30) - 65536);
        var hole = Call(new RequestBuilder(FuseOpcode.Lseek, entry.NodeId).U64(fh).U64(0).U32(4).U32(0));
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(hole.Payload));
        Assert.Equal(-22, Call(new RequestBuilder(FuseOpcode.Lseek, entry.NodeId).U64(fh).U64(0).U32(0).U32(0)).Error);

        var statfs = StatFsOut.Parse(Call(new RequestBuilder(FuseOpcode.StatFs, 1)).Payload);
        var expected = _fs.GetStatistics();
        Assert.Equal((ulong)expected.Blocks, statfs.Blocks);
        Assert.Equal((uint)expected.BlockSize, statfs.BlockSize);
        Assert.Equal(255u, statfs.NameLength);
    }

    [Fact]
    public void LayoutErrorsBecomeErrnos()
    {
        Init();
        MkDir(1, "d");
        Assert.Equal(-17, Call(new RequestBuilder(FuseOpcode.MkDir, 1).U32(0x1ED).U32(0).Name("d")).Error);
        Assert.Equal(-21, Call(new RequestBuilder(FuseOpcode.Unlink, 1).Name("d")).Error);
        Assert.Equal(-2, Call(new RequestBuilder(FuseOpcode.RmDir, 1).Name("nope")).Error);
    }

    [Fact]
    public void FuzzedRequestsNeverCrashAndAlwaysAnswerWellFormed()
    {
        Init();
        var (file, fh) = Create(1, "seed");
        var valid = new List<byte[]>
        {
            new RequestBuilder(FuseOpcode.Lookup, 1).Name("seed").Build(),
            new RequestBuilder(FuseOpcode.MkDir, 1).U32(0x1ED).U32(0).Name("dir").Build(),
            new RequestBuilder(FuseOpcode.Rename, 1).U64(1).Name("seed").Name("seed2").Build(),
            RequestBuilder.Io(FuseOpcode.Write, file.NodeId, fh, 10, 4).Bytes("abcd"u8).Build(),
            RequestBuilder.Io(FuseOpcode.Read, file.NodeId, fh, 0, 100).Build(),
            new RequestBuilder(FuseOpcode.SetAttr, file.NodeId).Bytes(new byte[88]).Build(),
            new RequestBuilder(FuseOpcode.BatchForget, 0).U32(2).U32(0).U64(file.NodeId).U64(1).Build(),
            new RequestBuilder(FuseOpcode.Symlink, 1).Name("l").Name("target").Build(),
        };
        var random = new Random(12345);
        for (int i = 0; i < 20000; i++)
        {
            byte[] request;
            int kind = random.Next(3);
            if (kind == 0)
            {
                request = new byte[random.Next(0, 200)];
                random.NextBytes(request);
                if (request.Length >= 8 && random.Next(2) == 0)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)request.Length);
                    BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), (uint)random.Next(0, 60));
                }
            }
            else
            {
                var template = valid[random.Next(valid.Count)];
                int cut = kind == 1 ? random.Next(0, template.Length + 1) : template.Length;
                request = template[..cut];
                if (kind == 1 && request.Length >= 4 && random.Next(2) == 0)
                    BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)request.Length);
                if (kind == 2) request[random.Next(FuseInHeader.Size, request.Length)] ^= (byte)random.Next(1, 256);
            }
            int n = _d.Process(request, _reply);
            if (n == 0) continue;
            var reply = Reply.Parse(_reply, n);
            Assert.True(reply.Error <= 0 && reply.Error > -4096);
            if (reply.Error != 0) Assert.Equal(16, n);
        }
    }
}
