using System.Diagnostics;
using FsCheck.Xunit;

namespace MountFs.Blocks.Tests;

public sealed class FileBlockDeviceTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Property(Arbitrary = [typeof(DeviceOperationArbitrary)], MaxTest = 60)]
    public void Matches_a_byte_array_model(DeviceOperation[] operations)
    {
        string path = _dir.File("model-" + Guid.NewGuid().ToString("N") + ".img");
        byte[] model;
        using (var device = FileBlockDevice.Create(path, 96 * 512))
            model = DeviceModelCheck.Run(device, operations);
        Assert.Equal(model, File.ReadAllBytes(path));
        File.Delete(path);
    }

    [Fact]
    public void Threads_share_one_device_without_a_shared_file_position()
    {
        string path = _dir.File("threads.img");
        const int region = 256 * 1024;
        using (var device = FileBlockDevice.Create(path, 4 * region))
        {
            var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
            {
                for (int i = 0; i < region / 4096; i++)
                {
                    device.Write(t * region + i * 4096L, DeviceModelCheck.Pattern(4096, (byte)t, i * 8));
                    var back = new byte[4096];
                    device.Read(t * region + i * 4096L, back);
                    if (!back.AsSpan().SequenceEqual(DeviceModelCheck.Pattern(4096, (byte)t, i * 8)))
                        throw new InvalidDataException($"thread {t} block {i} read back wrong data");
                }
            })).ToArray();
            foreach (var thread in threads)
                thread.Start();
            foreach (var thread in threads)
                thread.Join();
        }
        var bytes = File.ReadAllBytes(path);
        for (int t = 0; t < 4; t++)
            for (int i = 0; i < region / 4096; i++)
                Assert.True(bytes.AsSpan(t * region + i * 4096, 4096).SequenceEqual(DeviceModelCheck.Pattern(4096, (byte)t, i * 8)), $"thread {t} block {i}");
    }

    [Fact]
    public void A_second_writer_gets_a_clear_lock_error_and_the_first_writers_data_is_untouched()
    {
        string path = _dir.File("locked.img");
        using var first = FileBlockDevice.Create(path, 1 << 20);
        var data = DeviceModelCheck.Pattern(4096, 9, 0);
        first.Write(0, data);

        var error = Assert.Throws<DeviceLockedException>(() => FileBlockDevice.Open(path));
        Assert.Equal($"{path} is in use by another process (locked)", error.Message);
        Assert.Throws<DeviceLockedException>(() => FileBlockDevice.Open(path, readOnly: true));
        Assert.Throws<DeviceLockedException>(() => FileBlockDevice.Create(path, 4096, overwrite: true));

        var back = new byte[4096];
        first.Read(0, back);
        Assert.Equal(data, back);
        Assert.Equal(1 << 20, new FileInfo(path).Length);
        first.Dispose();
        using var again = FileBlockDevice.Open(path);
        again.Read(0, back);
        Assert.Equal(data, back);
    }

    [Fact]
    public void Readers_share_the_lock_but_exclude_writers()
    {
        string path = _dir.File("shared.img");
        FileBlockDevice.Create(path, 8192).Dispose();
        using var reader1 = FileBlockDevice.Open(path, readOnly: true);
        using var reader2 = FileBlockDevice.Open(path, readOnly: true);
        Assert.Throws<DeviceLockedException>(() => FileBlockDevice.Open(path));
    }

    [SkippableFact]
    public void The_lock_is_seen_by_other_processes_both_ways()
    {
        string? flock = ProcessRunner.Find("flock");
        Skip.If(flock is null, "flock(1) from util-linux is not installed");
        string path = _dir.File("process.img");
        using (var device = FileBlockDevice.Create(path, 8192))
        {
            // flock -n -E 99: exit 99 when the lock is held elsewhere.
            Assert.Equal(99, ProcessRunner.Run(flock, "-n", "-E", "99", path, "true").ExitCode);
        }
        Assert.Equal(0, ProcessRunner.Run(flock, "-n", "-E", "99", path, "true").ExitCode);

        // The child holds the lock until its stdin closes; it says "locked" once it has it.
        var info = new ProcessStartInfo(flock) { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in new[] { "-n", path, "sh", "-c", "echo locked; read line" })
            info.ArgumentList.Add(argument);
        using var child = Process.Start(info)!;
        try
        {
            Assert.Equal("locked", child.StandardOutput.ReadLine());
            var error = Assert.Throws<DeviceLockedException>(() => FileBlockDevice.Open(path));
            Assert.Contains("in use by another process (locked)", error.Message);
        }
        finally
        {
            child.StandardInput.Close();
            child.WaitForExit();
        }
        using var afterwards = FileBlockDevice.Open(path);
    }

    [Fact]
    public void Read_only_open_refuses_writes_and_discards()
    {
        string path = _dir.File("ro.img");
        var data = DeviceModelCheck.Pattern(8192, 4, 0);
        File.WriteAllBytes(path, data);
        using var device = FileBlockDevice.Open(path, readOnly: true);
        Assert.True(device.IsReadOnly);
        Assert.Throws<ReadOnlyDeviceException>(() => device.Write(0, new byte[512]));
        Assert.Throws<ReadOnlyDeviceException>(() => device.Discard(0, 512));
        var back = new byte[8192];
        device.Read(0, back);
        Assert.Equal(data, back);
        Assert.Equal(data, File.ReadAllBytes(path));
    }

    [Fact]
    public void Created_images_are_sparse_and_discard_punches_holes()
    {
        string path = _dir.File("sparse.img");
        const long size = 256L << 20;
        using var device = FileBlockDevice.Create(path, size);
        Assert.Equal(size, device.Length);
        Assert.Equal(size, new FileInfo(path).Length);
        Assert.True(device.AllocatedBytes < 64 * 1024, $"a fresh image allocates {device.AllocatedBytes} bytes");

        var middle = new byte[1 << 20];
        device.Read(size / 2, middle);
        DeviceModelCheck.AssertZero(middle);

        var data = DeviceModelCheck.Pattern(4 << 20, 1, 0);
        device.Write(64L << 20, data);
        device.Flush();
        long written = device.AllocatedBytes;
        Assert.True(written >= 4 << 20, $"4 MiB written but only {written} bytes allocated");
        Assert.True(written < 5 << 20, $"4 MiB written into a sparse image allocated {written} bytes");

        device.Discard((64L << 20) + (1 << 20), 2 << 20);
        long punched = device.AllocatedBytes;
        Assert.True(punched <= written - (2 << 20), $"discard of 2 MiB left {punched} of {written} bytes allocated");
        var back = new byte[4 << 20];
        device.Read(64L << 20, back);
        Assert.Equal(data.AsSpan(0, 1 << 20).ToArray(), back[..(1 << 20)]);
        DeviceModelCheck.AssertZero(back[(1 << 20)..(3 << 20)]);
        Assert.Equal(data.AsSpan(3 << 20).ToArray(), back[(3 << 20)..]);
        Assert.Equal(size, new FileInfo(path).Length);
    }

    [Fact]
    public void Prefetch_is_range_checked_and_changes_nothing()
    {
        string path = _dir.File("prefetch.img");
        using (var device = FileBlockDevice.Create(path, 64 * 512))
        {
            device.Write(8 * 512, DeviceModelCheck.Pattern(512, 7, 0));
            device.Prefetch(0, 64 * 512);
            device.Prefetch(63 * 512, 512);
            device.Prefetch(64 * 512, 0);
            Assert.Throws<ArgumentOutOfRangeException>(() => device.Prefetch(63 * 512, 1024));
            Assert.Throws<ArgumentException>(() => device.Prefetch(100, 512));
            var back = new byte[512];
            device.Read(8 * 512, back);
            Assert.Equal(DeviceModelCheck.Pattern(512, 7, 0), back);
        }
        using (var readOnly = FileBlockDevice.Open(path, readOnly: true))
            readOnly.Prefetch(0, 4096);
    }

    [Fact]
    public void Create_refuses_to_replace_an_existing_file_unless_asked()
    {
        string path = _dir.File("exists.img");
        File.WriteAllBytes(path, DeviceModelCheck.Pattern(4096, 2, 0));
        Assert.Throws<IOException>(() => FileBlockDevice.Create(path, 4096));
        Assert.Equal(DeviceModelCheck.Pattern(4096, 2, 0), File.ReadAllBytes(path));
        using var replaced = FileBlockDevice.Create(path, 8192, overwrite: true);
        Assert.Equal(8192, replaced.Length);
        var back = new byte[8192];
        replaced.Read(0, back);
        DeviceModelCheck.AssertZero(back);
    }

    [Fact]
    public void A_trailing_partial_sector_is_outside_the_device()
    {
        string path = _dir.File("odd.img");
        File.WriteAllBytes(path, new byte[4096 + 100]);
        using var device = FileBlockDevice.Open(path);
        Assert.Equal(4096, device.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => device.Write(4096, new byte[512]));
        Assert.Equal(4096 + 100, new FileInfo(path).Length);
    }

    [Fact]
    public void Missing_files_and_directories_are_clear_errors()
    {
        Assert.Throws<FileNotFoundException>(() => FileBlockDevice.Open(_dir.File("missing.img")));
        var error = Assert.ThrowsAny<IOException>(() => FileBlockDevice.Open(_dir.Path, readOnly: true));
        Assert.Contains(_dir.Path, error.Message);
        Assert.Throws<ObjectDisposedException>(() =>
        {
            var device = FileBlockDevice.Create(_dir.File("closed.img"), 4096);
            device.Dispose();
            device.Read(0, new byte[512]);
        });
    }

    [SkippableFact]
    public void A_loop_device_is_sized_by_ioctl_and_round_trips_data()
    {
        string? losetup = ProcessRunner.Find("losetup");
        Skip.If(losetup is null, "losetup is not installed");
        Skip.IfNot(Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root", "loop devices need root");
        Skip.IfNot(File.Exists("/dev/loop-control"), "/dev/loop-control is absent (no loop driver)");

        string image = _dir.File("loop.img");
        const int size = 8 << 20;
        var contents = DeviceModelCheck.Pattern(size, 11, 0);
        File.WriteAllBytes(image, contents);
        // Other test runs attach loop devices too: losetup -f can race them for the same free device.
        var attach = ProcessRunner.Run(losetup, "-f", "--show", image);
        for (int attempt = 0; attempt < 3 && attach.ExitCode != 0; attempt++)
            attach = ProcessRunner.Run(losetup, "-f", "--show", image);
        Skip.If(attach.ExitCode != 0, $"losetup -f --show failed: {attach.Error.Trim()}");
        string loop = attach.Output.Trim();
        try
        {
            using (var device = FileBlockDevice.Open(loop))
            {
                Assert.True(device.IsBlockDevice);
                Assert.Equal(size, device.Length);
                Assert.Equal(0, device.Length % device.SectorSize);
                var back = new byte[1 << 20];
                device.Read(3 << 20, back);
                Assert.Equal(contents.AsSpan(3 << 20, 1 << 20).ToArray(), back);

                var data = DeviceModelCheck.Pattern(64 * 1024, 12, 0);
                device.Write(1 << 20, data);
                device.Discard(5 << 20, 256 * 1024);
                device.Flush();
                var zeros = new byte[256 * 1024];
                device.Read(5 << 20, zeros);
                DeviceModelCheck.AssertZero(zeros);
                Assert.Throws<DeviceLockedException>(() => FileBlockDevice.Open(loop));
                data.CopyTo(contents, 1 << 20);
                Array.Clear(contents, 5 << 20, 256 * 1024);
            }
        }
        finally
        {
            ProcessRunner.Run(losetup, "-d", loop);
        }
        Assert.Equal(contents, File.ReadAllBytes(image));
    }
}
