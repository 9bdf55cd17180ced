using System.Text;
using MountFs.Vfs;

namespace MountFs.Memory;

// Extended attributes, with the limits and errors of Linux's xattr system calls.
public sealed partial class MemoryFileSystem
{
    private const int XattrCreate = 1;
    private const int XattrReplace = 2;
    private const int MaxXattrNameLength = 255;
    private const int MaxXattrValueLength = 65536;
    private static readonly string[] XattrNamespaces = ["user.", "trusted.", "security."];

    public byte[] GetExtendedAttribute(ulong node, string name)
    {
        lock (_lock)
        {
            var target = Node(node);
            ValidateXattrName(name);
            if (target.ExtendedAttributes?.TryGetValue(name, out var value) == true) return (byte[])value.Clone();
            throw new FsException(Errno.ENODATA, $"no attribute {name}");
        }
    }

    public IReadOnlyList<string> ListExtendedAttributes(ulong node)
    {
        lock (_lock)
        {
            var target = Node(node);
            if (!Capabilities.ExtendedAttributes) throw new FsException(Errno.EOPNOTSUPP, "extended attributes are not supported");
            return target.ExtendedAttributes is null ? [] : [.. target.ExtendedAttributes.Keys.Order(StringComparer.Ordinal)];
        }
    }

    public void SetExtendedAttribute(ulong node, string name, ReadOnlySpan<byte> value, int flags)
    {
        lock (_lock)
        {
            var target = Node(node);
            if ((flags & ~(XattrCreate | XattrReplace)) != 0) throw new FsException(Errno.EINVAL, "unknown xattr flags");
            ValidateXattrName(name);
            if (value.Length > MaxXattrValueLength) throw new FsException(Errno.E2BIG, "attribute value too large");
            EnsureWritable();
            // Linux keeps user.* to regular files and directories.
            if (name.StartsWith("user.", StringComparison.Ordinal) && !target.IsRegular && !target.IsDirectory)
                throw new FsException(Errno.EPERM, "user attributes only on files and directories");
            bool exists = target.ExtendedAttributes?.ContainsKey(name) == true;
            if (exists && (flags & XattrCreate) != 0) throw new FsException(Errno.EEXIST, $"attribute {name} exists");
            if (!exists && (flags & XattrReplace) != 0) throw new FsException(Errno.ENODATA, $"no attribute {name}");
            (target.ExtendedAttributes ??= new Dictionary<string, byte[]>(StringComparer.Ordinal))[name] = value.ToArray();
            target.Ctime = Now();
        }
    }

    public void RemoveExtendedAttribute(ulong node, string name)
    {
        lock (_lock)
        {
            var target = Node(node);
            ValidateXattrName(name);
            EnsureWritable();
            if (target.ExtendedAttributes?.Remove(name) != true) throw new FsException(Errno.ENODATA, $"no attribute {name}");
            target.Ctime = Now();
        }
    }

    private void ValidateXattrName(string name)
    {
        if (!Capabilities.ExtendedAttributes) throw new FsException(Errno.EOPNOTSUPP, "extended attributes are not supported");
        if (string.IsNullOrEmpty(name) || Encoding.UTF8.GetByteCount(name) > MaxXattrNameLength)
            throw new FsException(Errno.ERANGE, "bad attribute name length");
        var space = Array.Find(XattrNamespaces, prefix => name.StartsWith(prefix, StringComparison.Ordinal))
            ?? throw new FsException(Errno.EOPNOTSUPP, $"unsupported attribute namespace in {name}");
        if (name.Length == space.Length) throw new FsException(Errno.EINVAL, "attribute name without a suffix");
    }
}
