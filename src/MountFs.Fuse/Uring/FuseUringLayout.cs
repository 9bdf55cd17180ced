namespace MountFs.Fuse.Uring;

/// <summary>
/// Offsets of the FUSE-over-io_uring records (fuse.h 7.42+, not in older system headers): the per-entry
/// <c>fuse_uring_req_header</c> the kernel fills with a request and reads a reply from, and the
/// <c>fuse_uring_cmd_req</c> carried inline in a 128-byte SQE.
/// </summary>
internal static class FuseUringLayout
{
    /// <summary>fuse_uring_req_header.in_out: fuse_in_header on the way in, fuse_out_header on the way out (128 bytes).</summary>
    public const int InOut = 0;
    /// <summary>fuse_uring_req_header.op_in: the request's first (per-opcode) argument, at most 128 bytes.</summary>
    public const int OpIn = 128;
    public const int OpInSize = 128;
    /// <summary>fuse_uring_ent_in_out.commit_id (after flags at 256).</summary>
    public const int CommitId = 264;
    /// <summary>fuse_uring_ent_in_out.payload_sz: bytes used in the payload buffer, either way.</summary>
    public const int PayloadSize = 272;
    /// <summary>sizeof(struct fuse_uring_req_header).</summary>
    public const int HeaderSize = 288;

    /// <summary>fuse_uring_cmd_req inside the SQE command area: flags at 0, commit_id at 8, qid (u16) at 16.</summary>
    public const int CmdCommitId = 8;
    public const int CmdQueueId = 16;

    public const uint CmdRegister = 1;
    public const uint CmdCommitAndFetch = 2;

    /// <summary>The iovec count REGISTER requires: { headers, payload }.</summary>
    public const int IovSegments = 2;

    /// <summary>FUSE_OVER_IO_URING in fuse_init_in/out flags (flags2 bit 9).</summary>
    public const int InitFlagBit = 41;
}
