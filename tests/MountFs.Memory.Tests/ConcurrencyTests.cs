using MountFs.Vfs;

namespace MountFs.Memory.Tests;

public class ConcurrencyTests
{
    [Fact]
    public void Several_threads_working_at_once_leave_a_consistent_tree()
    {
        var m = new MemoryFixture();
        var shared = m.Mkdir("shared");
        const int threads = 4, rounds = 300;
        var workers = Enumerable.Range(0, threads).Select(t => Task.Run(() =>
        {
            var own = m.Fs.MakeDirectory(shared.Node, $"t{t}", 0x1ED, Credentials.Root);
            var payload = Enumerable.Range(0, 5000).Select(i => (byte)(i * 7 + t)).ToArray();
            for (int i = 0; i < rounds; i++)
            {
                var (file, handle) = m.Fs.Create(own.Node, $"f{i}", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
                m.Fs.Write(file.Node, handle, i, payload);
                var back = new byte[payload.Length];
                Assert.Equal(payload.Length, m.Fs.Read(file.Node, handle, i, back));
                Assert.Equal(payload, back);
                m.Fs.Release(file.Node, handle);
                m.Fs.Rename(own.Node, $"f{i}", shared.Node, $"t{t}-f{i}");
                if (i % 2 == 0) m.Fs.Unlink(shared.Node, $"t{t}-f{i}");
                if (i % 10 == 0) m.List(shared.Node);
                if (i % 25 == 0) m.Fs.MakeDirectory(own.Node, $"d{i}", 0x1ED, Credentials.Root);
            }
        })).ToArray();
        Task.WaitAll(workers);

        var names = m.Names(shared.Node);
        Assert.Equal(threads + threads * rounds / 2, names.Length);
        Assert.Equal(2u + threads, m.Fs.GetAttributes(shared.Node).Links);
        for (int t = 0; t < threads; t++)
        {
            var own = m.Get($"t{t}", shared.Node);
            Assert.Equal(2u + rounds / 25, own.Links);
            Assert.Equal(5000 + 1, m.Fs.GetAttributes(m.Get($"t{t}-f1", shared.Node).Node).Size);
        }
    }
}
