namespace MountFs.Ext.Checking;

/// <summary>
/// Pass 3: every directory must be reachable from the root. A directory with no parent entry, or one caught in a
/// loop of directories that never reaches the root, is reconnected into /lost+found (created when missing; in a
/// loop the entry that closes it is cut); then every '..' is made to name the directory's parent.
/// </summary>
internal static class ConnectivityPass
{
    private static readonly byte[] LostFoundName = "lost+found"u8.ToArray();

    public static void Run(CheckSession s)
    {
        s.Say("Pass 3: Checking directory connectivity");
        if (!EnsureRoot(s)) return;
        var root = s.Directories[2];
        root.Parent = 2;
        var connected = new HashSet<uint>();
        var children = new Dictionary<uint, List<uint>>();
        foreach (var d in s.Directories.Values)
        {
            if (d.Inode == 2 || d.Parent == 0) continue;
            if (!children.TryGetValue(d.Parent, out var list)) children[d.Parent] = list = [];
            list.Add(d.Inode);
        }
        MarkSubtree(2, connected, children);

        foreach (uint dir in s.Directories.Keys.Order().ToList())
        {
            if (connected.Contains(dir) || !s.Directories.ContainsKey(dir)) continue;
            var (top, looped) = TopOfChain(s, dir);
            var info = s.Directories[top];
            if (looped) s.Fix($"Directory inode {top} is part of a directory loop (its parent {info.Parent} leads back to it); reconnecting it to /lost+found.");
            else s.Fix($"Unconnected directory inode {top}; reconnecting it to /lost+found.");
            if (looped && info.ParentEntry is { } entry)
            {
                DirectoryEditor.Clear(s, entry);
                if (children.TryGetValue(info.Parent, out var siblings)) siblings.Remove(top);
            }
            info.Parent = 0;
            info.ParentEntry = null;
            uint lf = LostAndFound(s, connected, children);
            if (lf == 0 || !DirectoryEditor.Add(s, lf, Reconnected(top), top))
            {
                s.Unfixable($"Cannot reconnect directory inode {top}: no /lost+found and no room to make one.");
                MarkSubtree(top, connected, children);
                continue;
            }
            info.Parent = lf;
            if (!children.TryGetValue(lf, out var lfChildren)) children[lf] = lfChildren = [];
            lfChildren.Add(top);
            if (info.DotDot != lf) DirectoryEditor.SetDotDot(s, top, lf);
            MarkSubtree(top, connected, children);
        }

        foreach (var info in s.Directories.Values.OrderBy(d => d.Inode).ToList())
        {
            if (info.Parent == 0 || info.DotDot == info.Parent) continue;
            s.Fix($"'..' in directory inode {info.Inode} is {info.DotDot}, should be {info.Parent}.", preenSafe: true);
            if (!DirectoryEditor.SetDotDot(s, info.Inode, info.Parent)) s.Unfixable($"No '..' entry to fix in directory inode {info.Inode}.");
        }
    }

    public static byte[] Reconnected(uint ino) => System.Text.Encoding.ASCII.GetBytes($"#{ino}");

    private static void MarkSubtree(uint top, HashSet<uint> connected, Dictionary<uint, List<uint>> children)
    {
        var stack = new Stack<uint>();
        stack.Push(top);
        while (stack.Count > 0)
        {
            uint d = stack.Pop();
            if (!connected.Add(d)) continue;
            if (children.TryGetValue(d, out var list)) foreach (uint c in list) stack.Push(c);
        }
    }

    /// <summary>Climbs parents from <paramref name="dir"/> until a directory with no parent or one seen before on this climb.</summary>
    private static (uint Top, bool Looped) TopOfChain(CheckSession s, uint dir)
    {
        var seen = new HashSet<uint>();
        uint x = dir;
        while (true)
        {
            seen.Add(x);
            uint p = s.Directories[x].Parent;
            if (p == 0 || !s.Directories.ContainsKey(p)) return (x, false);
            if (seen.Contains(p)) return (x, true);
            x = p;
        }
    }

    /// <summary>The root must be a directory in use; when it is not, a new empty root is made.</summary>
    private static bool EnsureRoot(CheckSession s)
    {
        if (s.InodeUsed[2] && s.Directories.ContainsKey(2)) return true;
        s.Fix("Root inode not allocated; creating a new root directory.");
        uint block = s.AllocateBlock();
        if (block == 0)
        {
            s.Unfixable("No free block for a new root directory.");
            return false;
        }
        var inode = s.NewInode(0x41ED);
        inode.LinksCount = 2;
        inode.Size = s.BlockSize;
        inode.SetBlock(0, block);
        inode.Blocks512 = (ulong)(s.BlockSize / 512);
        s.WriteInode(2, inode);
        DirectoryEditor.WriteDotBlock(s.Disk.Overwrite(block), 2, 2);
        s.InodeUsed[2] = true;
        s.InodeType[2] = DirectoryEntry.TypeDirectory;
        var info = new CheckedDirectory(2) { Parent = 2, DotDot = 2 };
        info.Blocks.Add(block);
        s.Directories[2] = info;
        s.LinksCounted[2] += 2;
        return true;
    }

    /// <summary>/lost+found's inode, made (mode 0700, one block) when missing or not a directory; 0 when impossible.</summary>
    public static uint LostAndFound(CheckSession s, HashSet<uint>? connected = null, Dictionary<uint, List<uint>>? children = null)
    {
        if (s.LostAndFound != 0) return s.LostAndFound;
        var found = DirectoryEditor.Find(s, 2, LostFoundName);
        if (found is { } f)
        {
            if (s.Directories.ContainsKey(f.Inode))
            {
                s.LostAndFound = f.Inode;
                return f.Inode;
            }
            s.Fix($"/lost+found is not a directory (inode {f.Inode}); unlinking it.");
            DirectoryEditor.Clear(s, f.Location);
        }
        else
        {
            s.Fix("/lost+found not found; creating it.", preenSafe: true);
        }
        uint ino = s.AllocateInode();
        uint block = ino == 0 ? 0 : s.AllocateBlock();
        if (ino == 0 || block == 0) return 0;
        var inode = s.NewInode(0x41C0);
        inode.LinksCount = 2;
        inode.Size = s.BlockSize;
        inode.SetBlock(0, block);
        inode.Blocks512 = (ulong)(s.BlockSize / 512);
        s.WriteInode(ino, inode);
        DirectoryEditor.WriteDotBlock(s.Disk.Overwrite(block), ino, 2);
        s.InodeType[ino] = DirectoryEntry.TypeDirectory;
        var info = new CheckedDirectory(ino) { DotDot = 2 };
        info.Blocks.Add(block);
        s.Directories[ino] = info;
        s.LinksCounted[ino]++; // its '.'
        s.LinksCounted[2]++; // its '..'
        if (!DirectoryEditor.Add(s, 2, LostFoundName, ino)) return 0;
        info.Parent = 2;
        connected?.Add(ino);
        if (children != null)
        {
            if (!children.TryGetValue(2, out var list)) children[2] = list = [];
            list.Add(ino);
        }
        s.LostAndFound = ino;
        return ino;
    }
}
