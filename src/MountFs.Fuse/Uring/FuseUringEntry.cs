using System.Runtime.CompilerServices;

namespace MountFs.Fuse.Uring;

/// <summary>
/// One registered ring entry: the kernel's header area and payload buffer, laid out in one pinned array so a
/// request can be made contiguous (header + op_in copied just before the payload) without copying the payload.
/// </summary>
/// <remarks>
/// Layout: [0, 288) fuse_uring_req_header; [320, 352) the iovec pair handed to REGISTER; [512, 1024) a gap in
/// which a request's fixed part (or the reply's out header) is assembled next to the payload; [1024, ...) the
/// payload buffer of <see cref="PayloadCapacity"/> bytes. Replies to requests that carry a payload (names,
/// written data) go to the separate <see cref="Reply"/> buffer first, since they would overwrite what they read.
/// </remarks>
internal sealed unsafe class FuseUringEntry
{
    public const int IovOffset = 320;
    public const int GapOffset = 512;
    public const int PayloadOffset = 1024;
    /// <summary>Replies to payload-carrying requests are small (entry, write count, xattr value up to 64 KiB).</summary>
    public const int ReplyCapacity = (64 << 10) + 4096;

    public FuseUringEntry(int index, int payloadCapacity)
    {
        Index = index;
        PayloadCapacity = payloadCapacity;
        Buffer = GC.AllocateArray<byte>(PayloadOffset + payloadCapacity, pinned: true);
        Reply = GC.AllocateArray<byte>(ReplyCapacity, pinned: true);
        Base = (byte*)Unsafe.AsPointer(ref Buffer[0]);
        var iov = (ulong*)(Base + IovOffset);
        iov[0] = (ulong)Base;
        iov[1] = FuseUringLayout.HeaderSize;
        iov[2] = (ulong)(Base + PayloadOffset);
        iov[3] = (ulong)payloadCapacity;
    }

    public int Index { get; }
    public int PayloadCapacity { get; }
    /// <summary>Pinned (never moves), so <see cref="Base"/> stays valid for the kernel's whole use of it.</summary>
    public byte[] Buffer { get; }
    public byte[] Reply { get; }
    public byte* Base { get; }
    public byte* Headers => Base;
    public byte* Payload => Base + PayloadOffset;
    public byte* Iov => Base + IovOffset;

    /// <summary>Set once the kernel handed this entry its first request: its REGISTER was accepted.</summary>
    public bool Registered { get; set; }
}
