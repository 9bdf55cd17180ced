namespace MountFs.Ext.Checking;

/// <summary>
/// Pass 4: each in-use inode's i_links_count must equal the directory entries naming it. An inode no entry names is
/// cleared when it holds nothing (as e2fsck clears unattached zero-length files) and otherwise reconnected into
/// /lost+found as #inode.
/// </summary>
internal static class ReferenceCountPass
{
    public static void Run(CheckSession s)
    {
        s.Say("Pass 4: Checking reference counts");
        for (uint ino = 2; ino <= s.Geo.InodesCount; ino++)
        {
            if (!s.InodeUsed[(int)ino] || (ino < s.Sb.FirstInode && ino != 2)) continue;
            int counted = s.LinksCounted[ino];
            if (counted != 0 && s.LinksStored[ino] == counted) continue;
            var inode = s.ReadInode(ino);
            if (counted == 0)
            {
                if (inode.Blocks512 == 0 && (inode.IsRegular || inode.IsDirectory))
                {
                    s.Fix($"Unattached zero-length inode {ino}; clearing it.", preenSafe: true);
                    s.ClearInode(ino, inode);
                    continue;
                }
                s.Fix($"Unattached inode {ino}; connecting it to /lost+found.");
                uint lf = ConnectivityPass.LostAndFound(s);
                if (lf == 0 || !DirectoryEditor.Add(s, lf, ConnectivityPass.Reconnected(ino), ino))
                {
                    s.Unfixable($"Cannot reconnect inode {ino}: no /lost+found and no room to make one.");
                    continue;
                }
                inode = s.ReadInode(ino);
                counted = s.LinksCounted[ino];
            }
            FixCount(s, ino, inode, counted);
        }
        // Reconnecting may have made /lost+found, whose '..' adds a link to the root checked earlier in the loop.
        foreach (uint ino in new[] { 2u, s.LostAndFound })
            if (ino != 0 && s.InodeUsed[(int)ino]) FixCount(s, ino, s.ReadInode(ino), s.LinksCounted[ino]);
    }

    private static void FixCount(CheckSession s, uint ino, Inode inode, int counted)
    {
        if (inode.LinksCount == counted) return;
        s.Fix($"Inode {ino} ref count is {inode.LinksCount}, should be {counted}.", preenSafe: true);
        inode.LinksCount = (ushort)Math.Min(counted, ushort.MaxValue);
        s.WriteInode(ino, inode);
    }
}
