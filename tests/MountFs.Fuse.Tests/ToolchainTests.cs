namespace MountFs.Fuse.Tests;

/// <summary>Other programs working on the mount: cp, diff, tar, find, stat, several writers at once.</summary>
public sealed class ToolchainTests
{
    /// <summary>A small tree with the usual shapes: nested dirs, empty file, big file, symlink, hard link, modes.</summary>
    private static string MakeSourceTree()
    {
        string src = TestMount.NewDirectory();
        ChildProcess.Sh($"""
            cd '{src}' && mkdir -p a/b/c empty && echo hello > a/b/c/hello.txt && : > zero &&
            head -c 3000000 /dev/urandom > big.bin && ln -s a/b/c/hello.txt link && ln big.bin big.hard &&
            chmod 640 zero && chmod 750 a/b && touch -d '2011-11-11 11:11:11' a/b/c/hello.txt &&
            for i in $(seq 1 50); do echo $i > a/file$i; done
            """);
        return src;
    }

    [SkippableFact]
    public void CpDiffTarFindAndStatAgree()
    {
        using var m = TestMount.Start();
        string src = MakeSourceTree();
        try
        {
            ChildProcess.Sh($"cp -a '{src}/.' '{m.Root}/copy'");
            Assert.Equal("", ChildProcess.Sh($"diff -r --no-dereference '{src}' '{m.Root}/copy'"));
            // Metadata survives as cp -a set it.
            string Stat(string root) => ChildProcess.Sh(
                $"cd '{root}' && find . -path ./copy -prune -o -print | sort | xargs stat -c '%n %a %h %F %Y'");
            Assert.Equal(Stat(src), Stat($"{m.Root}/copy"));

            string tarball = Path.Combine(src, "..", Path.GetFileName(src) + ".tar");
            ChildProcess.Sh($"cd '{m.Root}/copy' && tar cf '{tarball}' .");
            ChildProcess.Sh($"mkdir '{m.Root}/untar' && cd '{m.Root}/untar' && tar xf '{tarball}'");
            File.Delete(tarball);
            Assert.Equal("", ChildProcess.Sh($"diff -r --no-dereference '{src}' '{m.Root}/untar'"));
            Assert.Equal(ChildProcess.Sh($"cd '{src}' && find . | sort"), ChildProcess.Sh($"cd '{m.Root}/untar' && find . | sort"));
            Assert.Equal("2", ChildProcess.Sh($"stat -c %h '{m.Root}/untar/big.hard'").Trim());
        }
        finally
        {
            Directory.Delete(src, recursive: true);
        }
    }

    [SkippableFact]
    public void SeveralProcessesWriteDifferentFilesAtOnce()
    {
        using var m = TestMount.Start();
        const int writers = 6;
        var tasks = Enumerable.Range(0, writers).Select(i => Task.Run(() => ChildProcess.Sh(
            $"for k in $(seq 1 20); do head -c 65536 /dev/zero | tr '\\0' '{(char)('a' + i)}' >> '{m.Root}/w{i}'; done"))).ToArray();
        Task.WaitAll(tasks);
        for (int i = 0; i < writers; i++)
        {
            byte[] data = File.ReadAllBytes(m[$"w{i}"]);
            Assert.Equal(20 * 65536, data.Length);
            Assert.All(data, b => Assert.Equal((byte)('a' + i), b));
        }
    }
}
