using MountFs.Vfs;

namespace MountFs.ModelKit;

// The operations: each picks its targets from the reference tree, runs on both sides and compares.
internal sealed partial class ModelRun
{
    private const int MaxOpenFiles = 4;
    private static readonly uint[] FileModes = [0x1A4, 0x180, 0x1ED, 0x124]; // 0644 0600 0755 0444
    private static readonly uint[] DirectoryModes = [0x1ED, 0x1C0, 0x1FD, 0x3FF]; // 0755 0700 0775 01777
    private static readonly uint[] ChmodModes = [0x1A4, 0x180, 0x1ED, 0x1C0, 0x124, 0x000, 0x9ED, 0x3FF, 0x5ED]; // … 04755 01777 02755
    private static readonly uint[] Ids = [0, 1000, 65534];
    private static readonly Credentials[] Owners = [Credentials.Root, new(1000, 1000), new(1000, 100)];
    private static readonly string[] SymlinkTargets = ["a", "../b", "/etc/passwd", "sub/file.txt", new('t', 300), "ñ/x y"];
    private static readonly string[] XattrNames = ["user.a", "user.b", "user.mime_type", "trusted.t"];
    private static readonly FallocateMode[] FallocateModes =
    [
        FallocateMode.Allocate, FallocateMode.KeepSize, FallocateMode.PunchHole | FallocateMode.KeepSize,
        FallocateMode.ZeroRange, FallocateMode.ZeroRange | FallocateMode.KeepSize,
    ];

    private string Dispatch(ModelOperation op)
    {
        if (op.Kind is OperationKind.Create or OperationKind.Mkdir or OperationKind.Mknod or OperationKind.Symlink
            or OperationKind.Link && Tree.Entries.Count >= _options.MaxEntries)
            return RemoveEntry(PickEntry(op.A));
        return op.Kind switch
        {
            OperationKind.Create => Create(op),
            OperationKind.Mkdir => Mkdir(op),
            OperationKind.Mknod => Mknod(op),
            OperationKind.Symlink => Symlink(op),
            OperationKind.Link => Link(op),
            OperationKind.Unlink => Unlink(PickEntryOrName(op.A, op.B)),
            OperationKind.Rmdir => Rmdir(op),
            OperationKind.Rename => Rename(op),
            OperationKind.Write => Write(PickFile(op.A), op.B, op.C, op.E),
            OperationKind.Read => Read(op),
            OperationKind.Truncate => Truncate(op),
            OperationKind.Chmod => Chmod(op),
            OperationKind.Chown => Chown(op),
            OperationKind.Utimens => Utimens(op),
            OperationKind.Stat => Stat(op),
            OperationKind.Readdir => Readdir(op),
            OperationKind.Readlink => Readlink(op),
            OperationKind.Fsync => Fsync(op),
            OperationKind.Sync => Sync(),
            OperationKind.Open => Open(op),
            OperationKind.HandleWrite => HandleWrite(op),
            OperationKind.HandleRead => HandleRead(op),
            OperationKind.HandleStat => HandleStat(op),
            OperationKind.Close => Close(op),
            OperationKind.SetXattr => SetXattr(op),
            OperationKind.GetXattr => GetXattr(op),
            OperationKind.ListXattr => ListXattr(op),
            OperationKind.RemoveXattr => RemoveXattr(op),
            OperationKind.Fallocate => Fallocate(op),
            OperationKind.Statfs => Statfs(),
            OperationKind.WriteBeyondLimit => WriteBeyondLimit(op),
            OperationKind.WriteFar => WriteFar(op),
            OperationKind.Remount => Remount(),
            _ => throw new ArgumentOutOfRangeException(nameof(op), op.Kind, "unknown operation"),
        };
    }

    private string Create(ModelOperation op)
    {
        var (dir, name) = (PickDirectory(op.A), Name(op.B));
        // Without stored permissions a layout may map a missing write bit to a read-only attribute; keep files writable.
        uint mode = _capabilities.Permissions ? FileModes[(uint)op.C % FileModes.Length] : 0x1A4;
        var owner = Owners[(uint)op.D % Owners.Length];
        _current = $"create {Join(dir, name)} mode {Octal(mode)} as {owner.Uid}:{owner.Gid}";
        var parent = DirectoryBoth(dir);
        var (s, r) = Both(_current, side =>
            side.Fs.Create(side == _subject ? parent.Subject : parent.Reference, name, mode, OpenFlags.ReadWrite, owner));
        if (!s.Ok) return s.ToString();
        Changed();
        _subject.HoldForOperation(s.Value.Attributes.Node);
        _reference.HoldForOperation(r.Value.Attributes.Node);
        Both($"release {Join(dir, name)}", side =>
        {
            var (attributes, handle) = side == _subject ? s.Value : r.Value;
            side.Fs.Release(attributes.Node, handle);
        });
        CompareAttributes(_current, s.Value.Attributes, r.Value.Attributes);
        CompareParent(dir);
        return "ok";
    }

    private string Mkdir(ModelOperation op)
    {
        var (dir, name) = (PickDirectory(op.A), Name(op.B));
        uint mode = _capabilities.Permissions ? DirectoryModes[(uint)op.C % DirectoryModes.Length] : 0x1ED;
        var owner = Owners[(uint)op.D % Owners.Length];
        _current = $"mkdir {Join(dir, name)} mode {Octal(mode)} as {owner.Uid}:{owner.Gid}";
        var parent = DirectoryBoth(dir);
        var (s, r) = Both(_current, side => side.Fs.MakeDirectory(Pick(side, parent), name, mode, owner));
        return Created(dir, s, r);
    }

    private string Mknod(ModelOperation op)
    {
        var (dir, name) = (PickDirectory(op.A), Name(op.B));
        (uint type, uint rdev) = ((uint)op.C % 4) switch
        {
            0 => (UnixFileMode.Fifo, 0u),
            1 => (UnixFileMode.Socket, 0u),
            2 => (UnixFileMode.CharacterDevice, 0x103u),
            _ => (UnixFileMode.BlockDevice, 0x801u),
        };
        _current = $"mknod {Join(dir, name)} {TypeName(type)} rdev {rdev:x}";
        var parent = DirectoryBoth(dir);
        var (s, r) = Both(_current, side => side.Fs.MakeNode(Pick(side, parent), name, type | 0x1A4, rdev, Credentials.Root));
        return Created(dir, s, r);
    }

    private string Symlink(ModelOperation op)
    {
        var (dir, name) = (PickDirectory(op.A), Name(op.B));
        string target = SymlinkTargets[(uint)op.C % SymlinkTargets.Length];
        _current = $"symlink {Join(dir, name)} -> {(target.Length > 40 ? target[..20] + $"…({target.Length})" : target)}";
        var parent = DirectoryBoth(dir);
        var (s, r) = Both(_current, side => side.Fs.Symlink(Pick(side, parent), name, target, Credentials.Root));
        return Created(dir, s, r);
    }

    private string Link(ModelOperation op)
    {
        string source = (uint)op.D % 10 < 9 && Tree.NonDirectories.Count > 0 ? Pick(Tree.NonDirectories, op.A) : PickEntry(op.A);
        var (dir, name) = (PickDirectory(op.B), Name(op.C));
        _current = $"link {source} as {Join(dir, name)}";
        var (sn, rn) = ResolveBoth(source);
        if (rn is null) return "source absent";
        var parent = DirectoryBoth(dir);
        var (s, r) = Both(_current, side => side.Fs.Link(side == _subject ? sn!.Node : rn.Node, Pick(side, parent), name));
        return Created(dir, s, r);
    }

    private string Created(string dir, Result<NodeAttributes> s, Result<NodeAttributes> r)
    {
        if (!s.Ok) return s.ToString();
        Changed();
        _subject.HoldForOperation(s.Value!.Node);
        _reference.HoldForOperation(r.Value!.Node);
        CompareAttributes(_current, s.Value, r.Value);
        CompareParent(dir);
        return "ok";
    }

    private string Unlink(string path)
    {
        _current = $"unlink {path}";
        var (dir, name) = Split(path);
        var parent = DirectoryBoth(dir);
        var (s, _) = Both(_current, side => side.Fs.Unlink(Pick(side, parent), name));
        return Removed(dir, s);
    }

    private string Rmdir(ModelOperation op)
    {
        var directories = Tree.Directories.Skip(1).ToList();
        string path = (uint)op.C % 10 < 7 && directories.Count > 0 ? Pick(directories, op.A) : PickEntryOrName(op.A, op.B);
        _current = $"rmdir {path}";
        var (dir, name) = Split(path);
        var parent = DirectoryBoth(dir);
        var (s, _) = Both(_current, side => side.Fs.RemoveDirectory(Pick(side, parent), name));
        return Removed(dir, s);
    }

    /// <summary>Keeps the tree small: removes an entry instead of adding one.</summary>
    private string RemoveEntry(string path)
    {
        var (s, r) = ResolveBoth(path);
        if (r is null) return Unlink(path);
        if (!r.IsDirectory) return Unlink(path);
        _current = $"rmdir {path} (tree full)";
        var (dir, name) = Split(path);
        var parent = DirectoryBoth(dir);
        var (result, _) = Both(_current, side => side.Fs.RemoveDirectory(Pick(side, parent), name));
        return Removed(dir, result);
    }

    private string Removed(string dir, Result<bool> s)
    {
        if (!s.Ok) return s.ToString();
        Changed();
        CompareParent(dir);
        return "ok";
    }

    private string Rename(ModelOperation op)
    {
        string source = PickEntryOrName(op.A, op.B);
        string target = (uint)op.D % 4 == 0 && Tree.Entries.Count > 0
            ? Pick(Tree.Entries, op.D / 4)
            : Join(PickDirectory(op.B / 7), Name(op.C));
        uint f = (uint)op.D / 16 % 20;
        var flags = f < 14 ? RenameFlags.None
            : f < 17 ? RenameFlags.NoReplace
            : _options.AllowExchange ? RenameFlags.Exchange : RenameFlags.None;
        _current = $"rename {source} -> {target}{(flags == RenameFlags.None ? "" : " " + flags)}";
        var (fromDir, fromName) = Split(source);
        var (toDir, toName) = Split(target);
        var from = DirectoryBoth(fromDir);
        var to = DirectoryBoth(toDir);
        var (s, _) = Both(_current, side => side.Fs.Rename(Pick(side, from), fromName, Pick(side, to), toName, flags));
        if (!s.Ok) return s.ToString();
        Changed();
        CompareParent(fromDir);
        CompareParent(toDir);
        var (sn, rn) = ResolveBoth(target);
        if (sn is not null) CompareAttributes($"{_current}: {target} afterwards", sn, rn!);
        return "ok";
    }

    private string Write(string path, int offsetSelector, int lengthSelector, long seed)
    {
        var (sn, rn) = ResolveBoth(path);
        long size = rn is { IsRegular: true } ? rn.Size : 0;
        var (offset, length) = Clip(Offset(offsetSelector, size), Length(lengthSelector));
        return WriteAt(path, sn, rn, offset, Pattern(seed, length));
    }

    private string WriteAt(string path, NodeAttributes? sn, NodeAttributes? rn, long offset, byte[] data)
    {
        _current = $"write {path} [{offset}, +{data.Length})";
        if (rn is null) return "absent";
        var nodes = (sn!.Node, rn.Node);
        var (s, r) = WithOpenFile(nodes, OpenFlags.ReadWrite, (side, node, handle) => side.Fs.Write(node, handle, offset, data));
        if (!s.Ok) return s.ToString();
        if (s.Value != r.Value) throw Fail($"{_current}: subject wrote {s.Value} bytes, reference {r.Value}");
        CompareNode(_current, nodes);
        return $"ok {s.Value}";
    }

    private string Read(ModelOperation op)
    {
        string path = PickFile(op.A);
        var (sn, rn) = ResolveBoth(path);
        long size = rn is { IsRegular: true } ? rn.Size : 0;
        long offset = Offset(op.B, size);
        int length = Length(op.C);
        _current = $"read {path} [{offset}, +{length})";
        if (rn is null) return "absent";
        return ReadBoth((sn!.Node, rn.Node), null, offset, length);
    }

    private string ReadBoth((ulong Subject, ulong Reference) nodes, OpenFile? open, long offset, int length)
    {
        var sBuffer = new byte[length];
        var rBuffer = new byte[length];
        Func<ModelSide, ulong, ulong, int> read = (side, node, handle) =>
            side.Fs.Read(node, handle, offset, side == _subject ? sBuffer : rBuffer);
        var (s, r) = open is null
            ? WithOpenFile(nodes, OpenFlags.ReadOnly, read)
            : Both(_current, side => read(side, Pick(side, nodes), side == _subject ? open.SubjectHandle : open.ReferenceHandle));
        if (!s.Ok) return s.ToString();
        if (s.Value != r.Value) throw Fail($"{_current}: subject read {s.Value} bytes, reference {r.Value}");
        CompareBytes(_current, sBuffer.AsSpan(0, s.Value), rBuffer.AsSpan(0, r.Value), offset);
        return $"ok {s.Value}";
    }

    private string Truncate(ModelOperation op)
    {
        string path = (uint)op.D % 10 < 9 ? PickFile(op.A) : PickEntry(op.A);
        var (sn, rn) = ResolveBoth(path);
        long current = rn is { IsRegular: true } ? rn.Size : 0;
        uint s = (uint)op.B, bucket = s % 100, value = s / 100;
        long size = bucket switch
        {
            < 30 => value % (current + 1),
            < 60 => current + value % 65536,
            < 80 => 0,
            _ => value % 256 * 4096L,
        };
        size = Math.Min(size, MaxFileBytes);
        _current = $"truncate {path} to {size}";
        if (rn is null) return "absent";
        return SetAttributes(path, (sn!.Node, rn.Node), new SetAttributes { Size = size });
    }

    private string SetAttributes(string path, (ulong Subject, ulong Reference) nodes, SetAttributes changes)
    {
        var (s, r) = Both(_current, side => side.Fs.SetAttributes(Pick(side, nodes), changes));
        if (!s.Ok) return s.ToString();
        Changed();
        CompareAttributes(_current, s.Value!, r.Value!);
        CompareNode($"{_current}: {path} afterwards", nodes);
        return "ok";
    }

    private string Chmod(ModelOperation op)
    {
        if (PickNonRoot(op.A, symlinks: false) is not string path) return "no target";
        uint mode = ChmodModes[(uint)op.B % ChmodModes.Length];
        _current = $"chmod {path} {Octal(mode)}";
        var (sn, rn) = ResolveBoth(path);
        return SetAttributes(path, (sn!.Node, rn!.Node), new SetAttributes { Mode = mode });
    }

    private string Chown(ModelOperation op)
    {
        if (PickNonRoot(op.A) is not string path) return "no target";
        uint uid = Ids[(uint)op.B % Ids.Length], gid = Ids[(uint)op.C % Ids.Length];
        _current = $"chown {path} {uid}:{gid}";
        var (sn, rn) = ResolveBoth(path);
        return SetAttributes(path, (sn!.Node, rn!.Node), new SetAttributes { Uid = uid, Gid = gid });
    }

    private string Utimens(ModelOperation op)
    {
        if (PickNonRoot(op.A) is not string path) return "no target";
        ulong e = (ulong)op.E;
        var atime = new Timestamp(1_600_000_000 + (long)(e % 100_000_000), (uint)(e % 1_000_000_000));
        var mtime = new Timestamp(1_600_000_000 + (long)(e / 7 % 100_000_000), (uint)(e / 3 % 1_000_000_000));
        _current = $"utimens {path} atime {atime} mtime {mtime}";
        var (sn, rn) = ResolveBoth(path);
        var nodes = (sn!.Node, rn!.Node);
        var (s, r) = Both(_current, side => side.Fs.SetAttributes(Pick(side, nodes),
            new SetAttributes { Atime = TimeChange.At(atime), Mtime = TimeChange.At(mtime) }));
        if (!s.Ok) return s.ToString();
        CompareAttributes(_current, s.Value!, r.Value!);
        CompareTimes(_current, s.Value!, r.Value!);
        var (after, afterReference) = Both($"getattr {path}", side => side.Fs.GetAttributes(Pick(side, nodes)));
        CompareTimes($"{_current}: getattr afterwards", after.Value!, afterReference.Value!);
        return "ok";
    }

    private void CompareTimes(string what, NodeAttributes s, NodeAttributes r)
    {
        if (!_options.CompareTimes) return;
        var granularity = _capabilities.TimeGranularity;
        static TimeSpan Distance(Timestamp a, Timestamp b) => (a.ToDateTime() - b.ToDateTime()).Duration();
        if (Distance(s.Mtime, r.Mtime) >= granularity && granularity > TimeSpan.FromTicks(1) || granularity <= TimeSpan.FromTicks(1) && s.Mtime != r.Mtime)
            throw Fail($"{what}: subject mtime {s.Mtime}, reference mtime {r.Mtime}");
        if (granularity <= TimeSpan.FromSeconds(1)
            && (Distance(s.Atime, r.Atime) >= granularity && granularity > TimeSpan.FromTicks(1) || granularity <= TimeSpan.FromTicks(1) && s.Atime != r.Atime))
            throw Fail($"{what}: subject atime {s.Atime}, reference atime {r.Atime}");
    }

    private string Stat(ModelOperation op)
    {
        string path = (uint)op.B % 100 < 85 ? Pick(Tree.Entries.Prepend("/").ToList(), op.A) : Join(PickDirectory(op.A), Name(op.C));
        _current = $"stat {path}";
        var (sn, rn) = ResolveBoth(path);
        if (rn is null) return "absent";
        if (path != "/") CompareAttributes(_current, sn!, rn);
        return "ok";
    }

    private string Readdir(ModelOperation op)
    {
        string path = PickDirectory(op.A);
        _current = $"readdir {path}";
        var nodes = DirectoryBoth(path);
        var (s, r) = Both(_current, side => side.List(Pick(side, nodes), reason => throw Fail($"{_current}: {reason}")));
        if (path == "/") s.Value!.RemoveAll(e => _options.IgnoredRootNames.Contains(e.Name));
        CompareListings(_current, s.Value!, r.Value!);
        return $"ok {r.Value!.Count} entries";
    }

    private static void CompareListings(string what, List<DirectoryEntry> s, List<DirectoryEntry> r)
    {
        var duplicates = s.GroupBy(e => e.Name).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (duplicates.Count > 0) throw Fail($"{what}: subject lists {string.Join(", ", duplicates)} more than once");
        var sNames = s.ToDictionary(e => e.Name, e => e.Type);
        var rNames = r.ToDictionary(e => e.Name, e => e.Type);
        var missing = rNames.Keys.Except(sNames.Keys).Order(StringComparer.Ordinal).ToList();
        var extra = sNames.Keys.Except(rNames.Keys).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0 || extra.Count > 0)
            throw Fail($"{what}: subject lacks [{string.Join(", ", missing)}] and has extra [{string.Join(", ", extra)}]");
        foreach (var (name, type) in rNames)
            if (sNames[name] != type) throw Fail($"{what}: {name} has d_type {sNames[name]} in the subject, {type} in the reference");
    }

    private string Readlink(ModelOperation op)
    {
        string path = (uint)op.B % 10 < 8 && Tree.Symlinks.Count > 0 ? Pick(Tree.Symlinks, op.A) : PickEntry(op.A);
        _current = $"readlink {path}";
        var (sn, rn) = ResolveBoth(path);
        if (rn is null) return "absent";
        var nodes = (sn!.Node, rn.Node);
        var (s, r) = Both(_current, side => side.Fs.ReadLink(Pick(side, nodes)));
        if (s.Ok && s.Value != r.Value) throw Fail($"{_current}: subject says {s.Value}, reference says {r.Value}");
        return s.Ok ? "ok" : s.ToString();
    }

    private string Fsync(ModelOperation op)
    {
        string path = PickFile(op.A);
        bool dataOnly = op.B % 2 == 0;
        _current = $"fsync {path}{(dataOnly ? " data only" : "")}";
        var (sn, rn) = ResolveBoth(path);
        if (rn is null) return "absent";
        var (s, _) = WithOpenFile((sn!.Node, rn.Node), OpenFlags.ReadWrite, (side, node, handle) =>
        {
            side.Fs.Fsync(node, handle, dataOnly);
            return true;
        });
        return s.ToString();
    }

    private string Sync()
    {
        _current = "sync";
        Both(_current, side => side.Fs.SyncFileSystem());
        return "ok";
    }

    private string Open(ModelOperation op)
    {
        if (_open.Count >= MaxOpenFiles) return Close(new ModelOperation(OperationKind.Close, 0, 0, 0, 0, 0));
        string path = PickFile(op.A);
        _current = $"open {path} for reading and writing, keep it open";
        var (sn, rn) = ResolveBoth(path);
        if (rn is null) return "absent";
        var nodes = (sn!.Node, rn.Node);
        var (s, r) = Both(_current, side => side.Fs.Open(Pick(side, nodes), OpenFlags.ReadWrite));
        if (!s.Ok) return s.ToString();
        _subject.Hold(nodes.Item1);
        _reference.Hold(nodes.Item2);
        _open.Add(new OpenFile(path, nodes.Item1, s.Value, nodes.Item2, r.Value));
        return $"ok handle {_open.Count - 1}";
    }

    private OpenFile? PickOpen(int selector) => _open.Count == 0 ? null : _open[(int)((uint)selector % (uint)_open.Count)];

    private string HandleWrite(ModelOperation op)
    {
        if (PickOpen(op.A) is not OpenFile open) return Write(PickFile(op.A), op.B, op.C, op.E);
        var nodes = (open.SubjectNode, open.ReferenceNode);
        long size = _reference.Fs.GetAttributes(open.ReferenceNode).Size;
        var (offset, length) = Clip(Offset(op.B, size), Length(op.C));
        var data = Pattern(op.E, length);
        _current = $"write through the handle opened on {open.Path} [{offset}, +{length})";
        var (s, r) = Both(_current, side => side.Fs.Write(Pick(side, nodes), side == _subject ? open.SubjectHandle : open.ReferenceHandle, offset, data));
        if (!s.Ok) return s.ToString();
        if (s.Value != r.Value) throw Fail($"{_current}: subject wrote {s.Value} bytes, reference {r.Value}");
        CompareNode(_current, nodes);
        return $"ok {s.Value}";
    }

    private string HandleRead(ModelOperation op)
    {
        if (PickOpen(op.A) is not OpenFile open) return Read(op);
        long size = _reference.Fs.GetAttributes(open.ReferenceNode).Size;
        long offset = Offset(op.B, size);
        int length = Length(op.C);
        _current = $"read through the handle opened on {open.Path} [{offset}, +{length})";
        return ReadBoth((open.SubjectNode, open.ReferenceNode), open, offset, length);
    }

    private string HandleStat(ModelOperation op)
    {
        if (PickOpen(op.A) is not OpenFile open) return Stat(op);
        _current = $"fstat the handle opened on {open.Path}";
        CompareNode(_current, (open.SubjectNode, open.ReferenceNode));
        return "ok";
    }

    private string Close(ModelOperation op)
    {
        if (PickOpen(op.A) is not OpenFile open) return Sync();
        _current = $"close the handle opened on {open.Path}";
        _open.Remove(open);
        Both(_current, side =>
        {
            if (side == _subject) side.Fs.Release(open.SubjectNode, open.SubjectHandle);
            else side.Fs.Release(open.ReferenceNode, open.ReferenceHandle);
        });
        _subject.Drop(open.SubjectNode);
        _reference.Drop(open.ReferenceNode);
        Changed();
        return "ok";
    }

    private void CloseAll()
    {
        while (_open.Count > 0) Close(new ModelOperation(OperationKind.Close, 0, 0, 0, 0, 0));
    }

    private string SetXattr(ModelOperation op)
    {
        string path = PickXattrTarget(op.A);
        string name = XattrNames[(uint)op.B % XattrNames.Length];
        int flags = (int)((uint)op.C % 3);
        var value = Pattern(op.E, (int)((ulong)op.E % 200));
        _current = $"setxattr {path} {name} ({value.Length} bytes, flags {flags})";
        var (sn, rn) = ResolveBoth(path);
        var nodes = (sn!.Node, rn!.Node);
        var (s, _) = Both(_current, side => side.Fs.SetExtendedAttribute(Pick(side, nodes), name, value, flags));
        return s.ToString();
    }

    private string GetXattr(ModelOperation op)
    {
        string path = PickXattrTarget(op.A);
        string name = XattrNames[(uint)op.B % XattrNames.Length];
        _current = $"getxattr {path} {name}";
        var (sn, rn) = ResolveBoth(path);
        var nodes = (sn!.Node, rn!.Node);
        var (s, r) = Both(_current, side => side.Fs.GetExtendedAttribute(Pick(side, nodes), name));
        if (s.Ok) CompareBytes(_current, s.Value, r.Value, 0);
        return s.Ok ? $"ok {s.Value!.Length} bytes" : s.ToString();
    }

    private string ListXattr(ModelOperation op)
    {
        string path = PickXattrTarget(op.A);
        _current = $"listxattr {path}";
        var (sn, rn) = ResolveBoth(path);
        var nodes = (sn!.Node, rn!.Node);
        var (s, r) = Both(_current, side => side.Fs.ListExtendedAttributes(Pick(side, nodes)));
        if (!s.Ok) return s.ToString();
        string sList = string.Join(",", s.Value!.Order(StringComparer.Ordinal)), rList = string.Join(",", r.Value!.Order(StringComparer.Ordinal));
        if (sList != rList) throw Fail($"{_current}: subject lists [{sList}], reference [{rList}]");
        return $"ok [{sList}]";
    }

    private string RemoveXattr(ModelOperation op)
    {
        string path = PickXattrTarget(op.A);
        string name = XattrNames[(uint)op.B % XattrNames.Length];
        _current = $"removexattr {path} {name}";
        var (sn, rn) = ResolveBoth(path);
        var nodes = (sn!.Node, rn!.Node);
        var (s, _) = Both(_current, side => side.Fs.RemoveExtendedAttribute(Pick(side, nodes), name));
        return s.ToString();
    }

    private string Fallocate(ModelOperation op)
    {
        var mode = FallocateModes[(uint)op.D % FallocateModes.Length];
        string path = PickFile(op.A);
        var (sn, rn) = ResolveBoth(path);
        long size = rn is { IsRegular: true } ? rn.Size : 0;
        var (offset, length) = Clip(Offset(op.B, size), 1 + (int)((uint)op.C % 65536));
        _current = $"fallocate {path} {mode} [{offset}, +{length})";
        if (rn is null) return "absent";
        if (_unsupportedFallocate.Contains(mode) || length == 0) return "skipped";
        var nodes = (sn!.Node, rn.Node);
        var sOpen = Try(_subject, side => side.Fs.Open(nodes.Item1, OpenFlags.ReadWrite), _current);
        var rOpen = Try(_reference, side => side.Fs.Open(nodes.Item2, OpenFlags.ReadWrite), _current);
        if (sOpen.Error != rOpen.Error) throw Fail($"{_current}: open: subject answered {Show(sOpen)}, reference {Show(rOpen)}");
        if (!sOpen.Ok) return sOpen.ToString();
        try
        {
            var s = Try(_subject, side => { side.Fs.Allocate(nodes.Item1, sOpen.Value, mode, offset, length); return true; }, _current);
            if (s.Error == Errno.EOPNOTSUPP)
            {
                // A layout may leave fallocate modes out; the reference then must not apply it either.
                _unsupportedFallocate.Add(mode);
                return "subject does not support it: skipped from now on";
            }
            var r = Try(_reference, side => { side.Fs.Allocate(nodes.Item2, rOpen.Value, mode, offset, length); return true; }, _current);
            if (s.Error != r.Error) throw Fail($"{_current}: subject answered {Show(s)}, reference answered {Show(r)}");
            if (!s.Ok) return s.ToString();
        }
        finally
        {
            _subject.Fs.Release(nodes.Item1, sOpen.Value);
            _reference.Fs.Release(nodes.Item2, rOpen.Value);
        }
        CompareNode(_current, nodes);
        return "ok";
    }

    private string Statfs()
    {
        _current = "statfs";
        var (s, _) = Both(_current, side => side.Fs.GetStatistics());
        var stats = s.Value!;
        if (stats.BlocksFree > stats.Blocks || stats.BlocksAvailable > stats.BlocksFree || stats.FilesFree > stats.Files || stats.BlockSize <= 0)
            throw Fail($"statfs: inconsistent figures {stats}");
        return $"ok {stats.BlocksFree}/{stats.Blocks} blocks free";
    }

    private string WriteBeyondLimit(ModelOperation op)
    {
        string path = PickFile(op.A);
        var (sn, rn) = ResolveBoth(path);
        long max = _capabilities.MaxFileSize;
        if ((uint)op.B % 2 == 0 || max == long.MaxValue)
            return WriteAt(path, sn, rn, max - 1, [1, 2]);
        _current = $"truncate {path} to {max + 1} (past the maximum)";
        if (rn is null) return "absent";
        return SetAttributes(path, (sn!.Node, rn.Node), new SetAttributes { Size = max + 1 });
    }

    private string WriteFar(ModelOperation op)
    {
        string path = PickFile(op.A);
        if (!_options.LargeSparseFiles || !_capabilities.SparseFiles || _capabilities.MaxFileSize < 8L << 30)
            return Write(path, op.B, op.C, op.E);
        var (sn, rn) = ResolveBoth(path);
        long offset = (4L << 30) + (uint)op.B % (1u << 20);
        return WriteAt(path, sn, rn, offset, Pattern(op.E, (int)((uint)op.C % 4097)));
    }

    private string Remount()
    {
        if (_options.Remount is not { } remount) return Sync();
        _current = "remount the subject";
        CloseAll();
        _subject.EndOperation();
        IFileSystem reopened;
        try
        {
            reopened = remount(_subject.Fs);
        }
        catch (Exception e)
        {
            throw new Divergence($"remount failed: {e.GetType().Name}: {e.Message}", e);
        }
        _subject.Replace(reopened);
        CompareTrees("tree after remount");
        return "ok, trees equal";
    }

    /// <summary>Runs an action with a fresh handle on both sides (open, act, release; every step compared).</summary>
    private (Result<T> Subject, Result<T> Reference) WithOpenFile<T>((ulong Subject, ulong Reference) nodes, OpenFlags flags,
        Func<ModelSide, ulong, ulong, T> action)
    {
        var (sOpen, rOpen) = Both($"{_current}: open", side => side.Fs.Open(Pick(side, nodes), flags));
        if (!sOpen.Ok) return (new Result<T>(default, sOpen.Error), new Result<T>(default, rOpen.Error));
        var s = Try(_subject, side => action(side, nodes.Subject, sOpen.Value), _current);
        var r = Try(_reference, side => action(side, nodes.Reference, rOpen.Value), _current);
        Both($"{_current}: release", side => side.Fs.Release(Pick(side, nodes), side == _subject ? sOpen.Value : rOpen.Value));
        if (s.Error != r.Error) throw Fail($"{_current}: subject answered {Show(s)}, reference answered {Show(r)}");
        return (s, r);
    }

    private void CompareNode(string what, (ulong Subject, ulong Reference) nodes)
    {
        var (s, r) = Both($"{what}: getattr", side => side.Fs.GetAttributes(Pick(side, nodes)));
        CompareAttributes(what, s.Value!, r.Value!);
    }

    private void CompareParent(string dir)
    {
        if (dir == "/") return;
        var (s, r) = ResolveBoth(dir);
        if (r is null) throw Fail($"{_current}: parent {dir} vanished");
        CompareAttributes($"{_current}: parent {dir}", s!, r);
    }

    private ulong Pick(ModelSide side, (ulong Subject, ulong Reference) nodes) => side == _subject ? nodes.Subject : nodes.Reference;
}
