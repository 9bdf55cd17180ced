using System.Buffers.Binary;
using MountFs.Fuse.Protocol;

namespace MountFs.Fuse.Tests;

/// <summary>Every wire record: sizes and offsets from fuse.h, and a round trip.</summary>
public sealed class WireFormatTests
{
    private static readonly FuseAttr SampleAttr = new(
        Ino: 7, Size: 1L << 33, Blocks: 9, Atime: -5, Mtime: 1_700_000_000, Ctime: 3, AtimeNsec: 1, MtimeNsec: 999_999_999,
        CtimeNsec: 4, Mode: 0x81A4, Links: 2, Uid: 1000, Gid: 100, Rdev: 0x0801, BlockSize: 4096);

    [Fact]
    public void AttrHasFuseHOffsets()
    {
        var b = new byte[FuseAttr.WireSize];
        SampleAttr.WriteTo(b);
        Assert.Equal(88, FuseAttr.WireSize);
        Assert.Equal(7UL, BinaryPrimitives.ReadUInt64LittleEndian(b));
        Assert.Equal(1UL << 33, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(8)));
        Assert.Equal(-5L, BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(24)));
        Assert.Equal(999_999_999u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(52)));
        Assert.Equal(0x81A4u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(60)));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(64)));
        Assert.Equal(4096u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(80)));
        Assert.Equal(SampleAttr, FuseAttr.Parse(b));
    }

    [Fact]
    public void EntryAndAttrOutRoundTrip()
    {
        var entry = new EntryOut(42, 3, new FuseTimeout(1, 500), new FuseTimeout(2, 600), SampleAttr);
        var b = new byte[EntryOut.WireSize];
        entry.WriteTo(b);
        Assert.Equal(128, EntryOut.WireSize);
        Assert.Equal(42UL, BinaryPrimitives.ReadUInt64LittleEndian(b));
        Assert.Equal(500u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(32)));
        Assert.Equal(0x81A4u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(40 + 60)));
        Assert.Equal(entry, EntryOut.Parse(b));

        var attr = new AttrOut(new FuseTimeout(5, 7), SampleAttr);
        var a = new byte[AttrOut.WireSize];
        attr.WriteTo(a);
        Assert.Equal(104, AttrOut.WireSize);
        Assert.Equal(0x81A4u, BinaryPrimitives.ReadUInt32LittleEndian(a.AsSpan(16 + 60)));
        Assert.Equal(attr, AttrOut.Parse(a));
    }

    [Fact]
    public void SmallRepliesRoundTrip()
    {
        var open = new OpenOut(0x1122334455, OpenReplyFlags.DirectIo | OpenReplyFlags.KeepCache);
        var o = new byte[OpenOut.WireSize];
        open.WriteTo(o);
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(o.AsSpan(8)));
        Assert.Equal(open, OpenOut.Parse(o));

        var statfs = new StatFsOut(100, 50, 40, 1000, 900, 4096, 255, 4096);
        var s = new byte[StatFsOut.WireSize];
        statfs.WriteTo(s);
        Assert.Equal(255u, BinaryPrimitives.ReadUInt32LittleEndian(s.AsSpan(44)));
        Assert.Equal(statfs, StatFsOut.Parse(s));

        var init = new InitOut(7, 38, 1 << 17, InitFlags.AsyncRead | InitFlags.SecurityCtx, 64, 48, 1 << 20, 1, 256);
        var i = new byte[InitOut.Size];
        Assert.Equal(64, init.WriteTo(i, 38));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(i.AsSpan(32))); // flags2 = bit 32
        Assert.Equal(256, BinaryPrimitives.ReadUInt16LittleEndian(i.AsSpan(28)));
        Assert.Equal(init, InitOut.Parse(i));
        Assert.Equal(24, init.WriteTo(i, 22));
    }

    [Fact]
    public void DirentIsPaddedToEightBytes()
    {
        var d = new FuseDirent(9, 77, 4, "abc");
        var b = new byte[64];
        Assert.Equal(32, d.TryWrite(b)); // 24 + 3 → 32
        Assert.Equal(0, d.TryWrite(new byte[31]));
        Assert.True(FuseDirent.TryParse(b, out var back, out int size));
        Assert.Equal(32, size);
        Assert.Equal(d, back);
        Assert.Equal(128 + 32, FuseDirent.PlusSizeFor(3));
        Assert.False(FuseDirent.TryParse(b.AsSpan(0, 26), out _, out _));
    }

    [Fact]
    public void HeaderRejectsShortAndInconsistentLength()
    {
        var bytes = new RequestBuilder(FuseOpcode.GetAttr, 5, 9).U64(0).U64(0).Build();
        Assert.True(FuseInHeader.TryParse(bytes, out var h));
        Assert.Equal((FuseOpcode.GetAttr, 5UL, 9UL, 1234u), (h.Opcode, h.NodeId, h.Unique, h.Pid));
        Assert.False(FuseInHeader.TryParse(bytes.AsSpan(0, 39), out _));
        Assert.False(FuseInHeader.TryParse(bytes.AsSpan(0, 45), out _)); // len says 56
    }

    [Fact]
    public void ReaderReportsTruncationAsValues()
    {
        var r = new FuseReader([1, 0, 0, 0, 2, 3]);
        Assert.True(r.TryReadUInt32(out uint a));
        Assert.Equal(1u, a);
        Assert.False(r.TryReadUInt32(out _));
        Assert.False(r.TryReadName(out _));
        Assert.False(r.TryReadBlock(3, out _));
        Assert.Equal(2, r.ReadRest().Length);
    }
}

public sealed class NodeTableTests
{
    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(0UL)]
    public void RootAndIdOneTradePlacesBothWays(ulong layoutRoot)
    {
        var table = new Bridge.NodeTable(layoutRoot);
        Assert.Equal(1UL, table.ToFuse(layoutRoot));
        Assert.Equal(layoutRoot, table.ToLayout(1));
        foreach (ulong id in new ulong[] { 1, 2, 3, 77 })
        {
            if (id == layoutRoot) continue;
            if (layoutRoot == 0 && id == 1) continue; // layout id 1 would become FUSE 0
            Assert.Equal(id, table.ToLayout(table.ToFuse(id)));
        }
        Assert.Throws<Vfs.FsException>(() => table.ToLayout(0));
    }

    [Fact]
    public void ReleaseReportsZeroOnceAndClamps()
    {
        var table = new Bridge.NodeTable(2);
        table.Acquire(5);
        table.Acquire(5);
        Assert.False(table.Release(5, 1));
        Assert.True(table.Release(5, 7));
        Assert.False(table.Release(5, 1));
        table.Acquire(1);
        Assert.Equal(0UL, table.LookupCount(1));
    }
}
