using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using MountFs.Blocks.Partitions;

namespace MountFs.Blocks.Tests;

public sealed class PartitionTableTests : IDisposable
{
    private const long DiskSize = 64L << 20;
    private const long DiskSectors = DiskSize / 512;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [SkippableFact]
    public void Reads_a_dos_label_made_by_sfdisk_including_logical_partitions()
    {
        string image = Sfdisk("dos.img", "label: dos\n,8M,83\n,8M,c,*\n,30M,5\n,4M,83\n,4M,82\n");
        var expected = SfdiskJson(image);
        using var disk = FileBlockDevice.Open(image, readOnly: true);
        var table = Found(disk);
        Assert.Equal(PartitionScheme.Mbr, table.Scheme);
        Assert.Equal(expected.GetProperty("id").GetString(), table.DiskIdentifier);

        var sfdiskParts = expected.GetProperty("partitions").EnumerateArray()
            .Where(p => p.GetProperty("type").GetString() != "5").ToArray();
        Assert.Equal(sfdiskParts.Length, table.Partitions.Count);
        foreach (var want in sfdiskParts)
        {
            int number = int.Parse(want.GetProperty("node").GetString()![image.Length..]);
            var got = Assert.Single(table.Partitions, p => p.Number == number);
            Assert.Equal(want.GetProperty("start").GetInt64(), got.FirstLba);
            Assert.Equal(want.GetProperty("size").GetInt64(), got.SectorCount);
            Assert.Equal(Convert.ToByte(want.GetProperty("type").GetString(), 16), got.MbrType);
            Assert.Equal(want.TryGetProperty("bootable", out var boot) && boot.GetBoolean(), got.Bootable);
            Assert.Equal(number >= 5, got.IsLogical);
        }
        Assert.Contains(table.Partitions, p => p.Number == 5 && p.MbrType == 0x82);
    }

    [SkippableFact]
    public void Reads_a_gpt_label_made_by_sfdisk()
    {
        string image = Sfdisk("gpt.img", "label: gpt\nsize=8M, type=L, name=\"root fs\"\nsize=8M, type=U\ntype=S, name=swap\n");
        var expected = SfdiskJson(image);
        using var disk = FileBlockDevice.Open(image, readOnly: true);
        var table = Found(disk);
        Assert.Equal(PartitionScheme.Gpt, table.Scheme);
        Assert.Empty(table.Warnings);
        Assert.Equal(expected.GetProperty("id").GetString()!.ToLowerInvariant(), table.DiskIdentifier);
        var wanted = expected.GetProperty("partitions").EnumerateArray().ToArray();
        Assert.Equal(wanted.Length, table.Partitions.Count);
        for (int i = 0; i < wanted.Length; i++)
        {
            var want = wanted[i];
            var got = table.Partitions[i];
            Assert.Equal(i + 1, got.Number);
            Assert.Equal(want.GetProperty("start").GetInt64(), got.FirstLba);
            Assert.Equal(want.GetProperty("size").GetInt64(), got.SectorCount);
            Assert.Equal(Guid.Parse(want.GetProperty("type").GetString()!), got.TypeGuid);
            Assert.Equal(Guid.Parse(want.GetProperty("uuid").GetString()!), got.UniqueGuid);
            Assert.Equal(want.TryGetProperty("name", out var name) ? name.GetString() : "", got.Name);
        }
        Assert.Equal("Linux filesystem (0fc63daf-8483-4772-8e79-3d69d8477de4)", table.Partitions[0].TypeDescription);
    }

    [SkippableFact]
    public void A_partition_opens_as_a_device_that_stays_inside_it()
    {
        string image = Sfdisk("open.img", "label: dos\n,1M,83\n,1M,83\n");
        var before = File.ReadAllBytes(image);
        using (var disk = FileBlockDevice.Open(image))
        {
            var table = Found(disk);
            var first = table.Partitions[0];
            using var device = first.Open(disk);
            Assert.Equal(1 << 20, device.Length);
            device.Write(device.Length - 512, Enumerable.Repeat((byte)0x5A, 512).ToArray());
            Assert.Throws<ArgumentOutOfRangeException>(() => device.Write(device.Length, new byte[512]));
            device.Flush();
        }
        var after = File.ReadAllBytes(image);
        long end = 2048 * 512 + (1 << 20);
        Assert.True(after.AsSpan((int)end - 512, 512).ToArray().All(b => b == 0x5A));
        after.AsSpan((int)end - 512, 512).Clear();
        Assert.Equal(before, after);
    }

    [SkippableFact]
    public void Written_mbr_passes_sfdisk_verify_and_reads_back()
    {
        string image = NewImage("written-dos.img");
        var specs = new[]
        {
            new MbrPartitionSpec(2048, 16384, MbrPartitionEntry.TypeFat32Lba, Bootable: true),
            new MbrPartitionSpec(18432, 40960, MbrPartitionEntry.TypeLinux),
            new MbrPartitionSpec(59392, DiskSectors - 59392, 0x82),
        };
        using (var disk = FileBlockDevice.Open(image))
            PartitionTableWriter.WriteMbr(disk, specs, 0x12345678);

        var verify = RunTool("sfdisk", "--verify", image);
        Assert.True(verify.ExitCode == 0 && verify.Output.Contains("No errors detected"), verify.Output + verify.Error);
        var json = SfdiskJson(image);
        Assert.Equal("0x12345678", json.GetProperty("id").GetString());
        var parts = json.GetProperty("partitions").EnumerateArray().ToArray();
        Assert.Equal(specs.Select(s => (s.FirstLba, s.SectorCount)), parts.Select(p => (p.GetProperty("start").GetInt64(), p.GetProperty("size").GetInt64())));
        Assert.True(parts[0].GetProperty("bootable").GetBoolean());

        using var reread = FileBlockDevice.Open(image, readOnly: true);
        var table = Found(reread);
        Assert.Equal(specs.Select(s => (s.FirstLba, s.SectorCount, s.Type)), table.Partitions.Select(p => (p.FirstLba, p.SectorCount, p.MbrType)));
    }

    [SkippableFact]
    public void Written_gpt_passes_sfdisk_verify_and_sgdisk_v_and_reads_back()
    {
        string image = NewImage("written-gpt.img");
        var diskGuid = Guid.NewGuid();
        var specs = new[]
        {
            new GptPartitionSpec(2048, 2048 + 16383, GptPartitionEntry.EfiSystem, "EFI system"),
            new GptPartitionSpec(18432, 18432 + 65535, GptPartitionEntry.LinuxFileSystem, "données"),
            new GptPartitionSpec(83968, DiskSectors - 34, GptPartitionEntry.LinuxSwap),
        };
        using (var disk = FileBlockDevice.Open(image))
            PartitionTableWriter.WriteGpt(disk, specs, diskGuid);

        var verify = RunTool("sfdisk", "--verify", image);
        Assert.True(verify.ExitCode == 0 && verify.Output.Contains("No errors detected"), verify.Output + verify.Error);
        var sgdisk = RunTool("sgdisk", "-v", image);
        Assert.True(sgdisk.ExitCode == 0 && sgdisk.Output.Contains("No problems found"), sgdisk.Output + sgdisk.Error);
        Assert.DoesNotContain("Warning", sgdisk.Output);

        var json = SfdiskJson(image);
        Assert.Equal(diskGuid, Guid.Parse(json.GetProperty("id").GetString()!));
        var parts = json.GetProperty("partitions").EnumerateArray().ToArray();
        Assert.Equal(specs.Select(s => (s.FirstLba, s.LastLba - s.FirstLba + 1, s.TypeGuid)),
            parts.Select(p => (p.GetProperty("start").GetInt64(), p.GetProperty("size").GetInt64(), Guid.Parse(p.GetProperty("type").GetString()!))));
        Assert.Equal("données", parts[1].GetProperty("name").GetString());

        using var reread = FileBlockDevice.Open(image, readOnly: true);
        var table = Found(reread);
        Assert.Equal(diskGuid.ToString(), table.DiskIdentifier);
        Assert.Equal(["EFI system", "données", ""], table.Partitions.Select(p => p.Name));
    }

    [Fact]
    public void A_damaged_primary_gpt_falls_back_to_the_backup_and_both_damaged_is_an_error()
    {
        using var disk = GptDisk();
        var sector = new byte[512];
        disk.Read(512, sector);
        sector[40] ^= 1; // FirstUsableLBA: the header CRC no longer matches
        disk.Write(512, sector);
        var table = Found(disk);
        Assert.Equal(2, table.Partitions.Count);
        Assert.Contains(table.Warnings, w => w.Contains("primary GPT header unusable") && w.Contains("CRC"));

        disk.Read((DiskSectors - 1) * 512, sector);
        sector[0] = (byte)'X';
        disk.Write((DiskSectors - 1) * 512, sector);
        var result = PartitionTable.Read(disk);
        Assert.True(result.IsCorrupt);
        Assert.Contains("no valid GPT", result.Error);
    }

    [Fact]
    public void Gpt_on_4096_byte_sectors_round_trips()
    {
        using var disk = new MemoryBlockDevice(DiskSize, sectorSize: 4096);
        long sectors = DiskSize / 4096;
        PartitionTableWriter.WriteGpt(disk, [new GptPartitionSpec(256, sectors - 7, GptPartitionEntry.LinuxFileSystem, "big")], Guid.NewGuid());
        var header = GptHeader.Read(disk.Contents.Slice(4096, 4096));
        Assert.Equal(6ul, header.FirstUsableLba);
        Assert.Equal((ulong)(sectors - 6), header.LastUsableLba);
        var table = Found(disk);
        var partition = Assert.Single(table.Partitions);
        Assert.Equal(256 * 4096L, partition.Offset);
        Assert.Equal((sectors - 7 - 256 + 1) * 4096, partition.Length);
        Assert.Throws<ArgumentException>(() => PartitionTableWriter.WriteGpt(disk, [new GptPartitionSpec(256, sectors - 5, GptPartitionEntry.LinuxFileSystem)], Guid.NewGuid()));
    }

    [Fact]
    public void A_damaged_entry_array_is_detected_by_its_crc()
    {
        using var disk = GptDisk();
        var array = new byte[512];
        disk.Read(2 * 512, array);
        array[32] ^= 0x80; // first LBA of partition 1
        disk.Write(2 * 512, array);
        var table = Found(disk);
        Assert.Contains(table.Warnings, w => w.Contains("entry array CRC mismatch"));
        Assert.Equal(2048, table.Partitions[0].FirstLba);

        disk.Read((DiskSectors - 33) * 512, array);
        array[32] ^= 0x80;
        disk.Write((DiskSectors - 33) * 512, array);
        Assert.Contains("entry array CRC mismatch", PartitionTable.Read(disk).Error);
    }

    [Theory]
    [InlineData(2048, DiskSectors, "passes the disk end")]
    [InlineData(0, 100, "sector 0")]
    [InlineData(uint.MaxValue, 2, "passes the disk end")]
    public void Mbr_partitions_outside_the_disk_are_errors(long first, long count, string message)
    {
        using var disk = new MemoryBlockDevice(DiskSize);
        var sector = new byte[512];
        new MasterBootRecord(1, [new MbrPartitionEntry(0, 0, 0x83, 0, (uint)first, (uint)count)]).Write(sector);
        disk.Write(0, sector);
        var result = PartitionTable.Read(disk);
        Assert.True(result.IsCorrupt);
        Assert.Contains(message, result.Error);
    }

    [Fact]
    public void Overlapping_mbr_partitions_are_an_error()
    {
        using var disk = new MemoryBlockDevice(DiskSize);
        var sector = new byte[512];
        new MasterBootRecord(1, [new MbrPartitionEntry(0, 0, 0x83, 0, 2048, 4096), new MbrPartitionEntry(0, 0, 0x83, 0, 4096, 4096)]).Write(sector);
        disk.Write(0, sector);
        Assert.Contains("overlap", PartitionTable.Read(disk).Error);
    }

    [Fact]
    public void An_ebr_chain_that_loops_is_an_error_not_a_hang()
    {
        using var disk = new MemoryBlockDevice(DiskSize);
        var sector = new byte[512];
        new MasterBootRecord(1, [new MbrPartitionEntry(0, 0, MbrPartitionEntry.TypeExtendedLba, 0, 2048, 40960)]).Write(sector);
        disk.Write(0, sector);
        // EBR at 2048: logical at +63, link to itself (offset 0 from the extended start).
        Array.Clear(sector);
        new MasterBootRecord(0, [new MbrPartitionEntry(0, 0, 0x83, 0, 63, 100), new MbrPartitionEntry(0, 0, MbrPartitionEntry.TypeExtendedChs, 0, 0, 200)]).Write(sector);
        disk.Write(2048 * 512, sector);
        Assert.Contains("loops", PartitionTable.Read(disk).Error);
    }

    [Fact]
    public void Devices_without_a_table_report_none()
    {
        using var empty = new MemoryBlockDevice(DiskSize);
        Assert.Equal(PartitionScheme.None, Found(empty).Scheme);

        // A FAT boot sector ends in 55 AA too, and its boot code fills the entry area.
        var vbr = new byte[512];
        vbr[0] = 0xEB;
        vbr[1] = 0x3C;
        vbr[2] = 0x90;
        "FAT16   "u8.CopyTo(vbr.AsSpan(0x36));
        "This is not a bootable disk.  Please insert a bootable floppy and"u8.CopyTo(vbr.AsSpan(0x1B0));
        vbr[510] = 0x55;
        vbr[511] = 0xAA;
        empty.Write(0, vbr);
        Assert.Equal(PartitionScheme.None, Found(empty).Scheme);
    }

    [SkippableFact]
    public void A_superfloppy_fat_image_has_no_partition_table()
    {
        string? mkfs = ProcessRunner.Find("mkfs.fat");
        Skip.If(mkfs is null, "mkfs.fat (dosfstools) is not installed");
        string image = NewImage("fat.img");
        var made = ProcessRunner.Run(mkfs, "-F", "16", image);
        Assert.True(made.ExitCode == 0, made.Error);
        using var disk = FileBlockDevice.Open(image, readOnly: true);
        Assert.Equal(PartitionScheme.None, Found(disk).Scheme);
    }

    public static Arbitrary<byte[]> HostileTables() =>
        (from sector0 in Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), 512)
         from status in Gen.Elements<byte>(0, 0x80)
         from type in Gen.Elements<byte>(0xEE, 0x05, 0x0F, 0x83, 0x00)
         from first in Gen.Elements(0u, 1u, 2u, 2048u, (uint)DiskSectors - 1, (uint)DiskSectors, uint.MaxValue)
         from count in Gen.Elements(0u, 1u, 100u, (uint)DiskSectors, uint.MaxValue)
         from gptGarbage in Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), 512)
         from entryCount in Gen.Elements(0u, 1u, 128u, 0x10000u, uint.MaxValue)
         from entrySize in Gen.Elements(0u, 128u, 127u, 256u, uint.MaxValue)
         from arrayLba in Gen.Elements(0ul, 1ul, 2ul, (ulong)DiskSectors - 1, ulong.MaxValue)
         select Build(sector0, status, type, first, count, gptGarbage, entryCount, entrySize, arrayLba)).ToArbitrary();

    private static byte[] Build(byte[] sector0, byte status, byte type, uint first, uint count, byte[] gpt, uint entryCount, uint entrySize, ulong arrayLba)
    {
        var image = new byte[1024];
        sector0.CopyTo(image, 0);
        for (int i = 0; i < 4; i++)
            image[446 + i * 16] = i == 0 ? status : (byte)0;
        new MbrPartitionEntry(status, 0, type, 0, first, count).Write(image.AsSpan(446));
        image[510] = 0x55;
        image[511] = 0xAA;
        gpt.CopyTo(image, 512);
        "EFI PART"u8.CopyTo(image.AsSpan(512));
        BitConverter.TryWriteBytes(image.AsSpan(512 + 12), 92u);
        BitConverter.TryWriteBytes(image.AsSpan(512 + 24), 1ul);
        BitConverter.TryWriteBytes(image.AsSpan(512 + 72), arrayLba);
        BitConverter.TryWriteBytes(image.AsSpan(512 + 80), entryCount);
        BitConverter.TryWriteBytes(image.AsSpan(512 + 84), entrySize);
        BitConverter.TryWriteBytes(image.AsSpan(512 + 16), GptHeader.ComputeHeaderCrc(image.AsSpan(512), 92));
        return image;
    }

    [Property(Arbitrary = [typeof(PartitionTableTests)], MaxTest = 300)]
    public void Hostile_tables_give_a_result_never_an_exception(byte[] firstSectors)
    {
        using var disk = new MemoryBlockDevice(4L << 20);
        disk.Write(0, firstSectors);
        var spy = new AccessSpyDevice(disk, 0, disk.Length);
        var result = PartitionTable.Read(spy);
        Assert.True(result.Table is not null ^ result.Error is not null);
        foreach (var partition in result.Table?.Partitions ?? [])
            Assert.True(partition.FirstLba >= 1 && partition.Offset + partition.Length <= disk.Length, $"partition {partition} leaves the disk");
    }

    private static PartitionTable Found(IBlockDevice disk)
    {
        var result = PartitionTable.Read(disk);
        Assert.False(result.IsCorrupt, result.Error);
        return result.Table!;
    }

    private MemoryBlockDevice GptDisk()
    {
        var disk = new MemoryBlockDevice(DiskSize);
        PartitionTableWriter.WriteGpt(disk,
        [
            new GptPartitionSpec(2048, 4095, GptPartitionEntry.LinuxFileSystem, "a"),
            new GptPartitionSpec(4096, 8191, GptPartitionEntry.LinuxSwap, "b"),
        ], Guid.NewGuid());
        var table = Found(disk);
        Assert.Empty(table.Warnings);
        return disk;
    }

    private string NewImage(string name)
    {
        string path = _dir.File(name);
        FileBlockDevice.Create(path, DiskSize).Dispose();
        return path;
    }

    private string Sfdisk(string name, string script)
    {
        string image = NewImage(name);
        var result = RunToolWithInput("sfdisk", script, "-q", image);
        Assert.True(result.ExitCode == 0, $"sfdisk failed: {result.Error}");
        return image;
    }

    private static JsonElement SfdiskJson(string image)
    {
        var result = RunTool("sfdisk", "--json", image);
        Assert.True(result.ExitCode == 0, result.Error);
        return JsonDocument.Parse(result.Output).RootElement.GetProperty("partitiontable").Clone();
    }

    private static ProcessRunner.Result RunTool(string tool, params string[] arguments) => RunToolWithInput(tool, null, arguments);

    private static ProcessRunner.Result RunToolWithInput(string tool, string? input, params string[] arguments)
    {
        string? path = ProcessRunner.Find(tool);
        Skip.If(path is null, $"{tool} is not installed");
        return ProcessRunner.RunWithInput(path, input, arguments);
    }
}
